"""Open Referral directories (ORUK, HSDS 3.x) read into providers and activities."""
