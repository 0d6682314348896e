{#-
    A recipient's or provider's name reduced for matching: lower case, '&' read as 'and',
    punctuation dropped, and the words that only say what legal form an organisation takes
    taken out: 'community interest company', 'charitable incorporated organisation', and
    the words in var organisation_name_noise_words (the, ltd, limited, cic, charity, ...).
    Null when nothing is left.
-#}
{% macro normalised_organisation_name(column) -%}
    {%- set words = var('organisation_name_noise_words') | join('|') -%}
    nullif(
        trim(regexp_replace(
            regexp_replace(
                -- every word between two spaces of its own, so that neighbours both match
                ' ' || replace(
                    regexp_replace(
                        ' ' || regexp_replace(
                            lower(replace({{ column }}, '&', ' and ')), '[^a-z0-9]+', ' ', 'g'
                        ) || ' ',
                        ' (community interest company|charitable incorporated organisation) ',
                        ' ',
                        'g'
                    ),
                    ' ',
                    '  '
                ) || ' ',
                ' ({{ words }}) ',
                ' ',
                'g'
            ),
            ' +',
            ' ',
            'g'
        )),
        ''
    )
{%- endmacro %}
