-- The PostgreSQL schema of the hub's index as `iep-serve migrate` makes it (version 1),
-- printed by pg_dump --schema-only --no-owner --no-privileges. For reading and for
-- reviewing a deployment: make it with `iep-serve migrate`, never from this file.
-- e2e.multinode checks that it is still what migrate makes.

CREATE TABLE public.audit (
    seq bigint NOT NULL,
    hash text NOT NULL,
    line text NOT NULL
);

CREATE TABLE public.audit_head (
    id integer NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    CONSTRAINT audit_head_id_check CHECK ((id = 1))
);

CREATE TABLE public.checkpoints (
    id bigint NOT NULL,
    json text NOT NULL
);

CREATE SEQUENCE public.checkpoints_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.checkpoints_id_seq OWNED BY public.checkpoints.id;

CREATE TABLE public.packages (
    id text NOT NULL COLLATE pg_catalog."C",
    sender text NOT NULL,
    size bigint NOT NULL,
    blake2b text NOT NULL,
    signature bytea NOT NULL,
    created text NOT NULL,
    upload_started text NOT NULL,
    committed text NOT NULL COLLATE pg_catalog."C",
    expires text NOT NULL,
    state text NOT NULL,
    all_acked text
);

CREATE TABLE public.recipients (
    package text NOT NULL,
    site text NOT NULL,
    pos integer NOT NULL,
    first_fetched text,
    acknowledged text,
    receipt_statement text DEFAULT ''::text NOT NULL,
    receipt_signature text DEFAULT ''::text NOT NULL
);

CREATE TABLE public.schema_version (
    version integer NOT NULL
);

CREATE TABLE public.sites (
    name text NOT NULL COLLATE pg_catalog."C",
    card text NOT NULL,
    key_id text NOT NULL,
    active boolean NOT NULL,
    added text NOT NULL
);

CREATE TABLE public.tokens (
    id text NOT NULL,
    hash text NOT NULL,
    site text NOT NULL,
    admin boolean NOT NULL,
    created text NOT NULL COLLATE pg_catalog."C",
    revoked boolean DEFAULT false NOT NULL
);

CREATE TABLE public.uploads (
    id text NOT NULL,
    site text NOT NULL,
    length bigint,
    off bigint NOT NULL,
    metadata bytea NOT NULL,
    signature bytea NOT NULL,
    package_hint text NOT NULL,
    concat text NOT NULL,
    parts text NOT NULL,
    created text NOT NULL COLLATE pg_catalog."C",
    expires text NOT NULL,
    state text NOT NULL,
    committing_package text NOT NULL
);

ALTER TABLE ONLY public.checkpoints ALTER COLUMN id SET DEFAULT nextval('public.checkpoints_id_seq'::regclass);

ALTER TABLE ONLY public.audit_head
    ADD CONSTRAINT audit_head_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.checkpoints
    ADD CONSTRAINT checkpoints_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.packages
    ADD CONSTRAINT packages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.recipients
    ADD CONSTRAINT recipients_pkey PRIMARY KEY (package, site);

ALTER TABLE ONLY public.sites
    ADD CONSTRAINT sites_key_id_key UNIQUE (key_id);

ALTER TABLE ONLY public.sites
    ADD CONSTRAINT sites_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_hash_key UNIQUE (hash);

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.uploads
    ADD CONSTRAINT uploads_pkey PRIMARY KEY (id);

CREATE INDEX packages_sender ON public.packages USING btree (sender, committed);

CREATE INDEX packages_state ON public.packages USING btree (state, committed);

CREATE INDEX recipients_site ON public.recipients USING btree (site, acknowledged);

CREATE INDEX tokens_site ON public.tokens USING btree (site);

CREATE INDEX uploads_site ON public.uploads USING btree (site);

