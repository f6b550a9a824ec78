-- One row per form that creates a record: the form's single-use token, claimed while Zoho is asked
-- and then the id of the record it made. Pressing Save again — twice at once, on another server
-- process, after a restart — finds the row instead of creating the record a second time.
CREATE TABLE saves (
    connection_id TEXT NOT NULL,
    token         TEXT NOT NULL,
    record_id     TEXT,
    claimed_until BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (connection_id, token)
);
CREATE INDEX saves_created_at ON saves (created_at);
