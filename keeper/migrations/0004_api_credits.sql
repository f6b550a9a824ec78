-- The API credits zportal spent per org, in ten-minute buckets: each process adds what it counted
-- every few seconds (one upsert per org, never a write per call), and the Connection page sums the
-- last 24 hours across processes. Buckets older than a day are pruned.
CREATE TABLE api_credits (
    dc       TEXT NOT NULL,
    org_zgid TEXT NOT NULL,
    bucket   BIGINT NOT NULL,
    used     BIGINT NOT NULL,
    PRIMARY KEY (dc, org_zgid, bucket)
);
