"""access control: people, roles, agency separation, an append-only log (SPEC §13)

Both backends get the tables of people (`person`: login, name, mail, role) and the agencies
they work for (`membership`). SQLite stops there: its file belongs to one person.

PostgreSQL also gets what makes the rules hold for any client that connects:
- the group roles `foi_caseworker`, `foi_approver` (a caseworker who may also approve),
  `foi_office` and `foi_auditor` (cluster-wide: created if missing), and their grants;
- row-level security on foi_case, event, appeal, notice, outbox and counter, keyed on the
  agencies of the session's login (`foi_agencies()`); office and auditor read every row. The
  owner (who ran `foi init`) is not subject to it (no FORCE): the owner is the administrator;
- triggers on `event`: the actor (`by`) is the session user, an extension (`extend`), the
  rejection of a request and the void or correction of a decision need an approver, and no
  login but the owner may UPDATE, DELETE or TRUNCATE the log;
- the same actor stamp on letters (`notice.by`) and year closes (`year_close.by`).

`session_user` throughout: `SET ROLE` changes `current_user`, never the login that the server
authenticated. Running it again is harmless (every statement is idempotent); the roles may
already exist because another database on the server created them.

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"

# Frozen here (not imported): a migration must mean the same thing whatever the code becomes.
ROLES = ("foi_caseworker", "foi_approver", "foi_office", "foi_auditor")
AGENCY_TABLES = ("foi_case", "appeal", "outbox", "counter")  # each row names its agency
CASE_TABLES = ("notice",)  # each row names its case
RLS_TABLES = (*AGENCY_TABLES, "event", *CASE_TABLES)
DECISIONS = ("decide", "lapse_correction", "lapse_fee")  # voiding or correcting one needs an approver
APPROVER_EVENTS = ("extend", "reject_extension")
STAMPED = ("event", "notice", "year_close")  # tables whose `by` is the session user's


def _people_tables() -> None:
    op.create_table(
        "person",
        sa.Column("login", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(300), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "membership",
        sa.Column("login", sa.String(63), sa.ForeignKey("person.login"), primary_key=True),
        sa.Column("agency", sa.String(32), primary_key=True),
    )


def _role_statements() -> list[str]:
    # One block per role: a concurrent `foi init` on another database of the same server
    # waits on the role's unique index and then finds it there (duplicate_object /
    # unique_violation), which is fine: the role exists.
    statements = [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} NOLOGIN; END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"""
        for role in ROLES
    ]
    statements.append("""DO $$ BEGIN
            IF NOT pg_has_role('foi_approver', 'foi_caseworker', 'MEMBER') THEN
              GRANT foi_caseworker TO foi_approver;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$""")
    return statements


def _search_path(schema: str) -> str:
    return f"SET search_path = pg_catalog, {schema}"


def _trigger_function(schema: str, name: str, security: str, body: str, *, declare: str = "") -> str:
    """The plpgsql trigger function `name` with the fixed search path every function here has:
    `body` is its statements (lines indented as they stand in the database), `declare` its one
    local variable."""
    declarations = f"            DECLARE\n              {declare}\n" if declare else ""
    return (
        f"CREATE OR REPLACE FUNCTION {schema}.{name}() RETURNS trigger\n"
        f"            LANGUAGE plpgsql {security}{_search_path(schema)} AS $$\n"
        f"{declarations}            BEGIN\n{body}            END $$"
    )


def _function_statements(schema: str) -> list[str]:
    path = _search_path(schema)
    decisions = ", ".join(f"'{e}'" for e in DECISIONS)
    approver_events = ", ".join(f"'{e}'" for e in APPROVER_EVENTS)
    return [
        # SECURITY DEFINER with a fixed search_path: a login cannot slip its own `membership`
        # in front of ours by putting a schema of its own first.
        f"""CREATE OR REPLACE FUNCTION {schema}.foi_agencies() RETURNS SETOF varchar
            LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$
            SELECT m.agency FROM {schema}.membership m JOIN {schema}.person p ON p.login = m.login
            WHERE m.login = session_user AND p.active $$""",
        # Owned, like the tables, by the login that ran the migration: inside a SECURITY DEFINER
        # function `current_user` is that owner, with no catalogue lookup per row.
        f"""CREATE OR REPLACE FUNCTION {schema}.foi_is_owner() RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$
            SELECT pg_has_role(session_user, current_user, 'MEMBER') $$""",
        f"""CREATE OR REPLACE FUNCTION {schema}.foi_is_approver() RETURNS boolean
            LANGUAGE sql STABLE {path} AS $$
            SELECT {schema}.foi_is_owner() OR pg_has_role(session_user, 'foi_approver', 'MEMBER') $$""",
        _trigger_function(
            schema,
            "foi_stamp_actor",
            "SECURITY DEFINER ",
            """              -- The owner imports history written by others; everyone else records as themself.
              -- `current_user` is the owner here (SECURITY DEFINER): no query per row of an import.
              IF coalesce(NEW."by", '') = '' OR (NEW."by" <> session_user
                                                AND NOT pg_has_role(session_user, current_user, 'MEMBER')) THEN
                NEW."by" := session_user;
              END IF;
              RETURN NEW;
""",
        ),
        _trigger_function(
            schema,
            "foi_event_rules",
            "",
            f"""              IF NEW.event IN ({approver_events}) AND NOT {schema}.foi_is_approver() THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                  MESSAGE = format('%s 须由审批人记录（%s 不是审批人）', NEW.event, session_user);
              END IF;
              IF NEW.event = 'extend' AND NOT {schema}.foi_is_owner() THEN
                NEW.data := jsonb_set(NEW.data::jsonb, '{{approved_by}}', to_jsonb(session_user::text))::json;
              END IF;
              IF NEW.event IN ('void', 'correct') AND NEW.case_id IS NOT NULL AND NOT {schema}.foi_is_approver() THEN
                SELECT e.event INTO target FROM {schema}.event e WHERE e.case_id = NEW.case_id ORDER BY e.seq
                  OFFSET greatest((NEW.data ->> 'target')::int - 1, 0) LIMIT 1;
                IF target IN ({decisions}) THEN
                  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                    MESSAGE = format('作废或更正办理决定须由审批人记录（%s 不是审批人）', session_user);
                END IF;
              END IF;
              RETURN NEW;
""",
            declare="target text;",
        ),
        _trigger_function(
            schema,
            "foi_append_only",
            "",
            f"""              IF NOT {schema}.foi_is_owner() THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                  MESSAGE = '事件日志只能追加，不能修改或删除';
              END IF;
              RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
""",
        ),
    ]


def _trigger_statements(schema: str) -> list[str]:
    statements = []
    for table in STAMPED:
        statements += [
            f"DROP TRIGGER IF EXISTS foi_stamp_actor ON {schema}.{table}",
            f"""CREATE TRIGGER foi_stamp_actor BEFORE INSERT ON {schema}.{table}
                FOR EACH ROW EXECUTE FUNCTION {schema}.foi_stamp_actor()""",
        ]
    return [
        *statements,
        f"DROP TRIGGER IF EXISTS foi_event_rules ON {schema}.event",
        f"""CREATE TRIGGER foi_event_rules BEFORE INSERT ON {schema}.event FOR EACH ROW
            WHEN (NEW.event IN ({", ".join(f"'{e}'" for e in (*APPROVER_EVENTS, "void", "correct"))}))
            EXECUTE FUNCTION {schema}.foi_event_rules()""",
        f"DROP TRIGGER IF EXISTS foi_append_only ON {schema}.event",
        f"""CREATE TRIGGER foi_append_only BEFORE UPDATE OR DELETE ON {schema}.event
            FOR EACH ROW EXECUTE FUNCTION {schema}.foi_append_only()""",
        f"DROP TRIGGER IF EXISTS foi_append_only_truncate ON {schema}.event",
        f"""CREATE TRIGGER foi_append_only_truncate BEFORE TRUNCATE ON {schema}.event
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.foi_append_only()""",
    ]


def _grant_statements(schema: str) -> list[str]:
    everyone = ", ".join(ROLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {everyone}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {everyone}",
        # Tables a later migration creates are readable by office and auditor as well.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO foi_office, foi_auditor",
        f"GRANT INSERT, UPDATE ON {schema}.foi_case, {schema}.appeal, {schema}.notice, {schema}.counter,"
        f" {schema}.outbox TO foi_caseworker",
        f"GRANT DELETE ON {schema}.outbox TO foi_caseworker, foi_office",  # a reminder whose deadline moved
        f"GRANT INSERT ON {schema}.event, {schema}.agency TO foi_caseworker",
        # The office closes years: the close, and the 结转 marker on the cases still open.
        f"GRANT INSERT, UPDATE ON {schema}.year_close TO foi_office",
        f"GRANT INSERT ON {schema}.event TO foi_office",
        f"GRANT UPDATE ON {schema}.foi_case TO foi_office",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO foi_caseworker, foi_office",
        f"REVOKE ALL ON FUNCTION {schema}.foi_agencies() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {schema}.foi_agencies() TO {everyone}",
    ]


def _policy_statements(schema: str) -> list[str]:
    mine = f"agency IN (SELECT {schema}.foi_agencies())"
    case_of_mine = f"EXISTS (SELECT 1 FROM {schema}.foi_case c WHERE c.id = case_id AND c.{mine})"
    appeal_of_mine = f"EXISTS (SELECT 1 FROM {schema}.appeal a WHERE a.id = appeal_id AND a.{mine})"
    own = {table: mine for table in AGENCY_TABLES}
    own.update({table: case_of_mine for table in CASE_TABLES})
    own["event"] = f"({case_of_mine} OR {appeal_of_mine})"
    statements = []
    for table in RLS_TABLES:
        statements += [
            f"ALTER TABLE {schema}.{table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS foi_read_all ON {schema}.{table}",
            f"CREATE POLICY foi_read_all ON {schema}.{table} FOR SELECT TO foi_office, foi_auditor USING (true)",
            f"DROP POLICY IF EXISTS foi_own_agency ON {schema}.{table}",
            f"""CREATE POLICY foi_own_agency ON {schema}.{table} FOR ALL TO foi_caseworker
                USING ({own[table]}) WITH CHECK ({own[table]})""",
        ]
    statements += [
        f"DROP POLICY IF EXISTS foi_office_close ON {schema}.event",
        f"""CREATE POLICY foi_office_close ON {schema}.event FOR INSERT TO foi_office
            WITH CHECK (event = 'carry_over')""",
        f"DROP POLICY IF EXISTS foi_office_close ON {schema}.foi_case",
        f"CREATE POLICY foi_office_close ON {schema}.foi_case FOR UPDATE TO foi_office USING (true)",
    ]
    return statements


def _schema(conn: sa.Connection) -> str:
    return str(conn.dialect.identifier_preparer.quote(conn.execute(sa.text("SELECT current_schema()")).scalar_one()))


def upgrade() -> None:
    _people_tables()
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    schema = _schema(conn)
    for statement in (
        *_role_statements(),
        *_function_statements(schema),
        *_trigger_statements(schema),
        *_grant_statements(schema),
        *_policy_statements(schema),
    ):
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for table in RLS_TABLES:
            op.execute(f"DROP POLICY IF EXISTS foi_read_all ON {table}")
            op.execute(f"DROP POLICY IF EXISTS foi_own_agency ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("DROP POLICY IF EXISTS foi_office_close ON event")
        op.execute("DROP POLICY IF EXISTS foi_office_close ON foi_case")
        for table in STAMPED:
            op.execute(f"DROP TRIGGER IF EXISTS foi_stamp_actor ON {table}")
        for trigger in ("foi_event_rules", "foi_append_only", "foi_append_only_truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON event")
        for function in ("foi_event_rules", "foi_append_only", "foi_stamp_actor", "foi_is_approver",
                         "foi_is_owner", "foi_agencies"):  # fmt: skip
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        schema, everyone = _schema(conn), ", ".join(ROLES)
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE SELECT ON TABLES FROM foi_office, foi_auditor")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {everyone}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {everyone}")
        # The roles are the server's, shared with other databases: they stay.
    op.drop_table("membership")
    op.drop_table("person")
