-- (b) One CUR day normalized and allocated in one DuckDB query: the baseline a data engineer
-- would write. Input view `cur` (the Parquet export, with file_row_number) and the reference
-- tables registered by bench/duck.py: rates, catalog, tag_aliases, tag_units, hierarchy,
-- pool_rules, pool_targets, byte_units. Money stays DECIMAL; splits run on HUGEINT units of 1e-10.
CREATE OR REPLACE TEMP TABLE allocated AS
WITH focus AS (
    SELECT
        file_row_number AS rn,
        'aws' AS provider,
        line_item_usage_account_id AS sub_account,
        line_item_resource_id AS resource_id,
        line_item_currency_code AS currency,
        CASE
            WHEN line_item_line_item_type IN
                ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')
                THEN 'Usage'
            WHEN line_item_line_item_type IN
                ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee')
                THEN 'Purchase'
            WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
            WHEN line_item_line_item_type IN ('Credit', 'BundledDiscount', 'EdpDiscount',
                'PrivateRateDiscount', 'DistributorDiscount') THEN 'Credit'
            ELSE 'Adjustment'
        END AS charge_category,
        line_item_unblended_cost AS billed,
        CASE
            WHEN line_item_line_item_type IN ('SavingsPlanNegation', 'SavingsPlanRecurringFee',
                'SavingsPlanUpfrontFee', 'RIFee') THEN 0
            WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage'
                THEN coalesce(savings_plan_savings_plan_effective_cost, line_item_unblended_cost)
            WHEN line_item_line_item_type = 'DiscountedUsage'
                THEN coalesce(reservation_effective_cost, line_item_unblended_cost)
            ELSE line_item_unblended_cost
        END::DECIMAL(38, 10) AS effective,
        line_item_usage_amount AS quantity,
        pricing_unit,
        coalesce(product_product_name, line_item_product_code) AS source_service_name,
        coalesce(product_servicecode, line_item_product_code) AS service_code,
        resource_tags
    FROM cur
),
tag_entries AS (
    SELECT rn, key AS original, trim(value) AS value,
        lower(replace(replace(trim(regexp_replace(trim(key), '^(user:|user_)', '', 'i')),
            '-', '_'), ' ', '_')) AS normalized
    FROM (
        SELECT rn, regexp_replace(e.key, '^user_', '') AS key, e.value AS value
        FROM (SELECT rn, unnest(map_entries(resource_tags)) AS e FROM focus)
    )
),
tag_values AS (  -- per canonical key: the first non-empty value in original-key order
    SELECT rn, coalesce(a.canonical, t.normalized) AS tag_key,
        arg_min(t.value, CASE WHEN t.value = '' THEN '1' ELSE '0' END || t.original) AS value
    FROM tag_entries t LEFT JOIN tag_aliases a ON a.normalized = t.normalized
    GROUP BY ALL
),
tag_unit AS (  -- the first tag key (in the rules' order) whose value names a unit
    SELECT v.rn, arg_min(u.unit, u.key_pos) AS unit, arg_min(u.tag_key, u.key_pos) AS tag_key
    FROM tag_values v JOIN tag_units u ON u.tag_key = v.tag_key AND u.value = lower(v.value)
    GROUP BY v.rn
),
normalized AS (
    SELECT f.*,
        CASE WHEN c.category IS NOT NULL THEN c.name
            ELSE coalesce(f.source_service_name, f.service_code, 'Unknown') END AS service_name,
        coalesce(c.category, 'Other') AS service_category,
        round(f.billed * r.rate, getvariable('minor_units')) AS billed_base,
        round(f.effective * r.rate, getvariable('minor_units')) AS effective_base
    FROM focus f
    JOIN rates r ON r.currency = f.currency
    LEFT JOIN catalog c ON c.provider = f.provider AND c.code = lower(trim(f.service_code))
),
tiered AS (
    SELECT n.rn, n.charge_category, n.billed, n.effective, n.billed_base, n.effective_base,
        n.service_category, n.quantity, n.pricing_unit,
        coalesce(t.unit, h.unit) AS unit,
        CASE WHEN t.unit IS NOT NULL THEN 'tag' WHEN h.unit IS NOT NULL THEN 'hierarchy' END
            AS method,
        CASE WHEN t.unit IS NOT NULL THEN 'tag:' || t.tag_key ELSE h.rule_id END AS rule_id,
        CASE WHEN t.unit IS NULL AND h.unit IS NULL THEN CASE
            WHEN n.charge_category = 'Tax' THEN 'tax'
            WHEN n.provider = 'aws' AND lower(n.service_name) LIKE '%support%' THEN 'aws-support'
            WHEN n.provider = 'aws' AND n.sub_account = '210987654324'
                AND lower(n.resource_id) LIKE '%loadbalancer%' THEN 'aws-load-balancers'
            WHEN n.provider = 'aws' AND n.sub_account = '210987654324'
                AND lower(n.resource_id) LIKE '%natgateway%' THEN 'aws-nat-gateways'
            WHEN n.provider = 'aws' AND n.sub_account = '210987654324'
                THEN 'aws-shared-networking-other'
        END END AS pool
    FROM normalized n
    LEFT JOIN tag_unit t ON t.rn = n.rn
    LEFT JOIN hierarchy h ON h.provider = n.provider AND h.sub_account = lower(n.sub_account)
),
measures AS (  -- driver measures on the directly allocated rows, per unit
    SELECT t.unit,
        sum(CASE WHEN t.service_category = 'Compute' THEN t.effective_base ELSE 0 END)
            AS compute_cost,
        coalesce(sum(CASE WHEN t.charge_category = 'Usage'
            THEN round(t.quantity::DECIMAL(38, 10) * b.factor, 10) END), 0) AS network_bytes
    FROM tiered t LEFT JOIN byte_units b ON b.unit = lower(trim(t.pricing_unit))
    WHERE t.method IS NOT NULL
    GROUP BY t.unit
),
weights AS (
    SELECT p.pool, u.unit, u.pos, greatest(coalesce(CASE p.driver
            WHEN 'compute_cost' THEN m.compute_cost::DECIMAL(38, 10)
            WHEN 'network_bytes' THEN m.network_bytes::DECIMAL(38, 10)
        END, 0), 0) AS weight
    FROM (SELECT DISTINCT pool FROM tiered WHERE pool IS NOT NULL) used
    JOIN pool_rules p ON p.pool = used.pool
    JOIN pool_targets u ON u.pool = used.pool
    LEFT JOIN measures m ON m.unit = u.unit
),
fallback AS (  -- a pool whose driver sums to zero splits evenly
    SELECT pool, unit, pos,
        CASE WHEN sum(weight) OVER w > 0 THEN (weight * 10000000000)::HUGEINT ELSE 1 END AS w,
        CASE WHEN sum(weight) OVER w > 0 THEN (sum(weight) OVER w * 10000000000)::HUGEINT
            ELSE count(*) OVER w END AS total
    FROM weights WINDOW w AS (PARTITION BY pool)
),
share_floor AS (
    SELECT *, (1000000000000000000::HUGEINT * w) // total AS fl,
        (1000000000000000000::HUGEINT * w) % total AS rem
    FROM fallback
),
shares AS (  -- largest remainder at scale 18: shares of a pool sum to exactly 1
    SELECT pool, unit, pos, fl + CASE WHEN row_number() OVER (PARTITION BY pool ORDER BY rem DESC, pos)
        <= 1000000000000000000::HUGEINT - sum(fl) OVER (PARTITION BY pool) THEN 1 ELSE 0 END
        AS share
    FROM share_floor
),
parts AS (
    SELECT t.rn, s.unit, s.pos, s.share, t.pool, t.charge_category,
        (t.billed * 10000000000)::HUGEINT AS m1,
        (t.effective * 10000000000)::HUGEINT AS m2,
        (t.billed_base * 10000000000)::HUGEINT AS m3,
        (t.effective_base * 10000000000)::HUGEINT AS m4
    FROM tiered t JOIN shares s ON s.pool = t.pool
    WHERE s.share > 0
),
part_floors AS (
    SELECT *,
        (abs(m1) // 1000000000000000000) * share
            + ((abs(m1) % 1000000000000000000) * share) // 1000000000000000000 AS f1,
        ((abs(m1) % 1000000000000000000) * share) % 1000000000000000000 AS r1,
        (abs(m2) // 1000000000000000000) * share
            + ((abs(m2) % 1000000000000000000) * share) // 1000000000000000000 AS f2,
        ((abs(m2) % 1000000000000000000) * share) % 1000000000000000000 AS r2,
        (abs(m3) // getvariable('unit') // 1000000000000000000) * share
            + ((abs(m3) // getvariable('unit') % 1000000000000000000) * share)
            // 1000000000000000000 AS f3,
        ((abs(m3) // getvariable('unit') % 1000000000000000000) * share)
            % 1000000000000000000 AS r3,
        (abs(m4) // getvariable('unit') // 1000000000000000000) * share
            + ((abs(m4) // getvariable('unit') % 1000000000000000000) * share)
            // 1000000000000000000 AS f4,
        ((abs(m4) // getvariable('unit') % 1000000000000000000) * share)
            % 1000000000000000000 AS r4
    FROM parts
),
split AS (  -- leftover units to the largest remainders, ties to the earlier unit
    SELECT rn, unit, pool, charge_category, share,
        sign(m1) * (f1 + CASE WHEN row_number() OVER (PARTITION BY rn ORDER BY r1 DESC, pos)
            <= abs(m1) - sum(f1) OVER (PARTITION BY rn) THEN 1 ELSE 0 END) AS m1,
        sign(m2) * (f2 + CASE WHEN row_number() OVER (PARTITION BY rn ORDER BY r2 DESC, pos)
            <= abs(m2) - sum(f2) OVER (PARTITION BY rn) THEN 1 ELSE 0 END) AS m2,
        sign(m3) * getvariable('unit') * (f3 + CASE WHEN
            row_number() OVER (PARTITION BY rn ORDER BY r3 DESC, pos)
            <= abs(m3) // getvariable('unit') - sum(f3) OVER (PARTITION BY rn) THEN 1 ELSE 0 END)
            AS m3,
        sign(m4) * getvariable('unit') * (f4 + CASE WHEN
            row_number() OVER (PARTITION BY rn ORDER BY r4 DESC, pos)
            <= abs(m4) // getvariable('unit') - sum(f4) OVER (PARTITION BY rn) THEN 1 ELSE 0 END)
            AS m4
    FROM part_floors
)
SELECT rn, unit AS x_business_unit, 'proportional' AS method, pool AS rule_id, charge_category,
    share::DECIMAL(38, 0) * 0.000000000000000001 AS share,
    m1::DECIMAL(38, 0) * 0.0000000001 AS "BilledCost",
    m2::DECIMAL(38, 0) * 0.0000000001 AS "EffectiveCost",
    m3::DECIMAL(38, 0) * 0.0000000001 AS x_billed_cost_base,
    m4::DECIMAL(38, 0) * 0.0000000001 AS x_effective_cost_base
FROM split
UNION ALL
SELECT rn, coalesce(unit, 'unallocated'), coalesce(method, 'unallocated'), rule_id,
    charge_category, 1, billed, effective, billed_base, effective_base
FROM tiered WHERE pool IS NULL;
