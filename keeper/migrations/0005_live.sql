-- What changed in each org's records, in the order it was stored: the log behind every open page's
-- event stream. A process appends what its own writes changed and what Zoho's notifications said;
-- every process reads it from where it last read (NOTIFY, or the SQLite change log, only wakes it),
-- and a browser that reconnects resumes from its Last-Event-ID. `seq` is MAX + 1, taken in the
-- insert itself, so a later seq is never visible before an earlier one. Kept about ten minutes.
CREATE TABLE live_events (
    seq          BIGINT NOT NULL PRIMARY KEY,
    dc           TEXT NOT NULL,
    org_zgid     TEXT NOT NULL,
    module       TEXT NOT NULL,
    -- The records' ids, comma-separated.
    ids          TEXT NOT NULL,
    -- create, edit or delete.
    op           TEXT NOT NULL,
    -- 1 while the notification Zoho sends for this write through zportal is still to come: the
    -- notification then only clears it, so one change is one event.
    echo_pending BIGINT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX live_events_at ON live_events (at);

-- The one Zoho watch channel per org: which connection registered it, until when, and the hash of
-- its token (a notification must carry the token itself). `wanted_until` is pushed on by every
-- process with open pages of the org; a channel nobody wants any longer is removed at Zoho. The
-- lease makes one process at a time register, renew or remove it.
CREATE TABLE watch_channels (
    dc            TEXT NOT NULL,
    org_zgid      TEXT NOT NULL,
    channel_id    BIGINT,
    token_hash    TEXT,
    connection_id TEXT,
    expires_at    BIGINT NOT NULL,
    wanted_until  BIGINT NOT NULL,
    lease_until   BIGINT NOT NULL,
    lease_holder  TEXT NOT NULL,
    PRIMARY KEY (dc, org_zgid)
);
CREATE INDEX watch_channels_channel ON watch_channels (channel_id);
