"""The weekly ICP report: its data (``orchestration.report_data``) and the Evidence site."""
