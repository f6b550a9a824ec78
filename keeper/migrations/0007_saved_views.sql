-- A person's saved views of a module's list: the filter conditions, columns, sort and page size
-- they named (the JSON the app writes, in `body`), kept per data center, org, user and module so
-- they are theirs wherever they sign in, and outlive a disconnect (no connection id here). The id
-- is random and opaque; saving under a name already there replaces that view in one upsert.
CREATE TABLE saved_views (
    id         TEXT NOT NULL PRIMARY KEY,
    dc         TEXT NOT NULL,
    org_zgid   TEXT NOT NULL,
    zuid       TEXT NOT NULL,
    module     TEXT NOT NULL,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dc, org_zgid, zuid, module, name)
);
