-- Seeds a freshly migrated database at the load benchmark's volumes with
-- set-based SQL (generate_series), run by scripts/bench.sh through psql:
--
--   psql -v policies=10000 -v workers=100000 -v applications=200000 \
--        -v reports=50000 -v heavy=1000 -f scripts/bench/seed.sql
--
-- Rows are what the service itself would have written, so that it reads them
-- back without complaint: valid statuses, categories and region codes, JSON
-- where it expects JSON, one live application per person, program and
-- period, a timeline event behind every status. Encrypted personal-data
-- columns (ID number, phone) are NULL: seeded workers never filled in a
-- profile. Ids are md5-derived UUIDs, so a row's id follows from its number.
--
-- Worker n has openid `wx-bench-n`: the fake WeChat (fake_wechat.py) answers
-- the login code `bench-n` with it, so the benchmark signs in as seeded
-- workers. Workers 0 .. heavy-1 each own five applications (four programs
-- this year, one last year); the rest share the remainder.

\set ON_ERROR_STOP on
SET synchronous_commit = off;

BEGIN;

-- Region pools, by level, to spread rows across the country.
CREATE TEMP TABLE bench_province AS
  SELECT row_number() OVER (ORDER BY code) - 1 AS n, code FROM region WHERE level = 'province';
CREATE TEMP TABLE bench_city AS
  SELECT row_number() OVER (ORDER BY code) - 1 AS n, code FROM region WHERE level = 'city';
CREATE TEMP TABLE bench_county AS
  SELECT row_number() OVER (ORDER BY code) - 1 AS n, code, left(code, 2) AS province
  FROM region WHERE level = 'county';
-- Counties of Jiangsu (32) and Guangxi (45), where the seeded programs run.
CREATE TEMP TABLE bench_program_county AS
  SELECT row_number() OVER (PARTITION BY province ORDER BY code) - 1 AS n, code, province
  FROM bench_county WHERE province IN ('32', '45');

-- Policies: the 30 seeded entries recombined (title numbered, body of one
-- entry followed by another's), as the in-process search benchmark does, so
-- that common words match thousands of policies. 5 % national, the rest
-- spread over provinces, cities and counties; published over three years.
CREATE TEMP TABLE bench_seed_policy AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, title, summary, body, category, issuer, tags, audience_tags
  FROM policy WHERE slug IS NOT NULL;

INSERT INTO policy (id, slug, parent_id, title, summary, body, category, region_code, issuer, doc_number,
                    issued_on, effective_from, effective_until, source_url, tags, audience_tags, status,
                    version, created_by, created_at, updated_at, published_at)
SELECT md5('policy' || i)::uuid::text,
       NULL, NULL,
       left(a.title, 180) || '（第' || i || '号）',
       a.summary,
       a.body || E'\n\n' || b.body,
       (ARRAY['employment','entrepreneurship','training','wage_rights','social_insurance',
              'education','housing','hukou','public_service'])[1 + i % 9],
       CASE WHEN i % 20 = 0 THEN '000000'
            WHEN i % 3 = 0 THEN (SELECT code FROM bench_province WHERE n = i % 34)
            WHEN i % 3 = 1 THEN (SELECT code FROM bench_city WHERE n = i % 333)
            ELSE (SELECT code FROM bench_county WHERE n = i % 2845) END,
       a.issuer,
       '人社发〔' || (2021 + i % 5) || '〕' || (i % 97 + 1) || '号',
       t.issued::date, t.issued::date, NULL,
       NULL,
       a.tags, a.audience_tags,
       'published', 1, NULL, t.issued, t.issued, t.issued
FROM generate_series(1::bigint, :policies) AS i
CROSS JOIN LATERAL (SELECT now() - interval '1 day' * (30 + (i * 7919) % 1000) AS issued) AS t
JOIN bench_seed_policy a ON a.n = i % 30
JOIN bench_seed_policy b ON b.n = (i * 7 + 3) % 30;

-- Workers: signed in through the mini-program, no profile filled in.
INSERT INTO worker (id, openid, unionid, real_name, id_number_cipher, id_number_hash, phone_cipher, phone_hash,
                    hukou_region_code, hukou_type, residence_region_code, work_region_code, consent_version,
                    consented_at, created_at, updated_at, last_login_at)
SELECT md5('worker' || i)::uuid::text,
       'wx-bench-' || i,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       t.at, t.at, t.at
FROM generate_series(0::bigint, :workers - 1) AS i
CROSS JOIN LATERAL (SELECT now() - interval '1 minute' * ((i * 104729) % 1000000) AS at) AS t;

-- Applications. Each row is (worker, j): the worker's j-th application, to
-- program j % 4 (rotated by worker) in period 2026 - j / 4, so that no
-- worker has two live applications to one program in one period.
CREATE TEMP TABLE bench_program AS
  SELECT row_number() OVER (ORDER BY slug) - 1 AS n, id, left(region_code, 2) AS province
  FROM program WHERE slug IS NOT NULL;

CREATE TEMP TABLE bench_application AS
  SELECT row_number() OVER () - 1 AS i, w, j FROM (
    SELECT w, j FROM generate_series(0::bigint, :heavy - 1) AS w, generate_series(0::bigint, 4) AS j
    UNION ALL
    SELECT :heavy + n % (:workers - :heavy), n / (:workers - :heavy)
    FROM generate_series(0::bigint, :applications - 5 * :heavy - 1) AS n
  ) AS rows;

INSERT INTO application (id, application_no, program_id, worker_id, period, region_code, status, answers,
                         requested_amount_fen, approved_amount_fen, disbursed_amount_fen, disbursement_reference,
                         version, submitted_at, decided_at, created_at, updated_at, anonymised_at)
SELECT md5('application' || a.i)::uuid::text,
       'SB-' || c.code || '-' || to_char(t.at, 'YYYYMMDD') || '-B' || lpad(a.i::text, 6, '0'),
       p.id,
       md5('worker' || a.w)::uuid::text,
       (2026 - a.j / 4)::text,
       c.code,
       s.status,
       '{"training_course":"电工（五级）","notes":"基准测试数据"}',
       CASE WHEN s.status = 'draft' THEN NULL ELSE 150000 END,
       CASE WHEN s.status IN ('approved', 'disbursed') THEN 150000 END,
       CASE WHEN s.status = 'disbursed' THEN 150000 END,
       CASE WHEN s.status = 'disbursed' THEN 'BENCH-' || a.i END,
       CASE WHEN s.status = 'draft' THEN 1 ELSE 3 END,
       CASE WHEN s.status <> 'draft' THEN t.at + interval '1 hour' END,
       CASE WHEN s.status IN ('approved', 'disbursed', 'rejected') THEN t.at + interval '5 days' END,
       t.at, t.at + interval '5 days', NULL
FROM bench_application a
JOIN bench_program p ON p.n = (a.j + a.w) % 4
JOIN bench_program_county c ON c.province = p.province AND c.n = (a.i * 31) % 90
CROSS JOIN LATERAL (SELECT now() - interval '1 minute' * (60 * 24 * 400 * (a.j / 4) + (a.i * 7919) % 500000) AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['draft','submitted','submitted','under_review','returned','approved',
                                  'approved','disbursed','disbursed','rejected','withdrawn',
                                  'under_review'])[1 + (a.i * 13) % 12] AS status) AS s;

-- Their timelines: created by the worker, then submitted, then decided.
INSERT INTO application_event (application_id, at, actor_type, actor_id, action, from_status, to_status, comment)
SELECT id, created_at, 'worker', worker_id, 'create', NULL, 'draft', NULL FROM application
WHERE application_no LIKE '%-B%';
INSERT INTO application_event (application_id, at, actor_type, actor_id, action, from_status, to_status, comment)
SELECT id, submitted_at, 'worker', worker_id, 'submit', 'draft', 'submitted', NULL FROM application
WHERE application_no LIKE '%-B%' AND submitted_at IS NOT NULL;
INSERT INTO application_event (application_id, at, actor_type, actor_id, action, from_status, to_status, comment)
SELECT id, decided_at, 'staff', NULL,
       CASE status WHEN 'rejected' THEN 'reject' ELSE 'approve' END,
       'under_review', CASE status WHEN 'rejected' THEN 'rejected' ELSE 'approved' END,
       CASE status WHEN 'rejected' THEN '材料不全，不符合申领条件。' END
FROM application
WHERE application_no LIKE '%-B%' AND decided_at IS NOT NULL;

-- Unpaid-wage reports, each filed by a worker in a county, with its
-- 'submit' event; a spread of statuses, amounts and employers.
INSERT INTO wage_report (id, report_no, worker_id, employer_name, employer_key, credit_code, project_name,
                         region_code, sector, amount_owed_fen, owed_from, owed_to, workers_affected, description,
                         contact_phone_cipher, status, accept_deadline, close_deadline, extended,
                         amount_recovered_fen, workers_paid, outcome, version, accepted_at, closed_at,
                         created_at, updated_at, accepted_late, anonymised_at)
SELECT md5('wage_report' || i)::uuid::text,
       'QX-' || c.code || '-' || to_char(t.at, 'YYYYMMDD') || '-B' || lpad(i::text, 6, '0'),
       md5('worker' || ((i * 7) % :workers))::uuid::text,
       e.name, 'name:' || e.name, NULL,
       '某项目' || (i % 500) || '期',
       c.code,
       (ARRAY['construction','manufacturing','services','agriculture','transport','other'])[1 + i % 6],
       100000 + (i * 7919) % 5000000,
       (t.at - interval '120 days')::date, (t.at - interval '10 days')::date,
       1 + i % 12,
       '工资拖欠了好几个月，老板一直说下个月发，现在联系不上。',
       NULL,
       s.status,
       (t.at + interval '7 days')::date,
       CASE WHEN s.status NOT IN ('submitted', 'refused') THEN (t.at + interval '90 days')::date END,
       false,
       CASE WHEN s.status = 'resolved' THEN 100000 END,
       CASE WHEN s.status = 'resolved' THEN 1 END,
       CASE WHEN s.status = 'closed' THEN 'unfounded' WHEN s.status = 'refused' THEN 'not_wage_dispute' END,
       CASE WHEN s.status = 'submitted' THEN 1 ELSE 3 END,
       CASE WHEN s.status NOT IN ('submitted', 'refused') THEN t.at + interval '2 days' END,
       CASE WHEN s.status IN ('resolved', 'closed', 'refused') THEN t.at + interval '30 days' END,
       t.at, t.at + interval '2 days',
       CASE WHEN s.status NOT IN ('submitted', 'refused') THEN false END,
       NULL
FROM generate_series(1::bigint, :reports) AS i
JOIN bench_county c ON c.n = (i * 37) % 2845
CROSS JOIN LATERAL (SELECT '某某' || (ARRAY['建筑劳务','电子','餐饮','物流','农业','装饰工程'])[1 + i % 6]
                           || '有限公司' || (i % 3000) AS name) AS e
CROSS JOIN LATERAL (SELECT now() - interval '1 minute' * (60 * 24 * 10 + (i * 104729) % 700000) AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['submitted','accepted','in_progress','in_progress','resolved','resolved',
                                  'closed','refused','info_requested','accepted'])[1 + (i * 3) % 10] AS status) AS s;

INSERT INTO wage_report_event (report_id, at, actor_type, actor_id, action, from_status, to_status, comment)
SELECT id, created_at, 'worker', worker_id, 'submit', NULL, 'submitted', NULL FROM wage_report
WHERE report_no LIKE '%-B%';

COMMIT;

-- As autovacuum leaves a table at rest: statistics for the planner, and the
-- visibility map that lets a count read only the index.
VACUUM ANALYZE;
