-- Zoho allows 10 access tokens per refresh token per 10 minutes. Only the holder of the refresh
-- lease refreshes, so counting here keeps the budget across every server process.
ALTER TABLE connections ADD COLUMN refresh_window_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN refresh_window_count BIGINT NOT NULL DEFAULT 0;
