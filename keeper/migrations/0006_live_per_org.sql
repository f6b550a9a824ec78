-- Each org's events are numbered on their own (`org_seq`: 1, 2, 3 … per org), and that number is
-- what an org's pages see as an event's id: one global counter let any user read from the gaps
-- how busy other tenants were. `seq` still orders the whole log for the processes that read it.
-- The index serves a stream that resumes: it reads only its org's events. Rows from before this
-- migration keep 0 (they age out within minutes; a page that resumes from one reloads).
ALTER TABLE live_events ADD COLUMN org_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX live_events_org ON live_events (dc, org_zgid, org_seq);
