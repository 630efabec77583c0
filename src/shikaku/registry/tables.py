"""The member registry as SQLAlchemy Core tables.

History lives in period tables (eligibility, pay, マイナ保険証 registration), never in versioned
copies of the person row. Codes are strings: 記号 and 番号 keep their leading zeros.
Alembic migrations in registry/migrations must produce exactly this schema (a test checks).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.sql.elements import ColumnElement

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("encoding", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # running / done / refused / interrupted
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("rows_read", BigInteger, nullable=False, default=0),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    Column("rows_updated", BigInteger, nullable=False, default=0),
    Column("rows_unchanged", BigInteger, nullable=False, default=0),
    Column("rows_rejected", BigInteger, nullable=False, default=0),
    Column("report_path", Text),
)

employers = Table(
    "employers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("insurer_number", String(8), nullable=False),
    Column("symbol", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_kana", Text, nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("address", Text, nullable=False),
    Column("phone", String(32)),
    Column("delivery", String(8), nullable=False),  # employer / home (任意継続)
    Column("category", Text),  # 区分, e.g. 日雇特例: policy.excluded_categories leaves it out
    # 電子交付: the portal offers the parcel's PDF and each person's notice (None: the
    # setting console.electronic_delivery decides).
    Column("electronic_delivery", Boolean),
    Column("row_hash", LargeBinary(16), nullable=False),
    Column("import_id", ForeignKey("import_runs.id")),
    UniqueConstraint("insurer_number", "symbol"),
    CheckConstraint("delivery IN ('employer', 'home')", name="delivery"),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("employer_id", ForeignKey("employers.id"), nullable=False),
    Column("insurer_number", String(8), nullable=False),
    Column("symbol", String(16), nullable=False),
    Column("number", String(16), nullable=False),
    Column("branch", String(2), nullable=False),
    Column("relationship", SmallInteger, nullable=False),  # 1 被保険者, 2 被扶養者 (JP Core)
    Column("insured_id", ForeignKey("persons.id")),
    Column("name", Text, nullable=False),
    Column("name_kana", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger, nullable=False),  # 1 男, 2 女
    Column("postal_code", String(7)),
    Column("address", Text),
    Column("my_number_ct", LargeBinary),
    Column("my_number_bidx", LargeBinary(16)),
    Column("my_number_status", String(12), nullable=False),  # none / registered / needs_check
    Column("old_card_expires_on", Date),
    Column("row_hash", LargeBinary(16), nullable=False),
    Column("import_id", ForeignKey("import_runs.id")),
    # Unique among all persons, hence among eligible ones: a 番号 is never reused in a 記号.
    # This one index serves the importer's upsert, the clinic lookup (+ birth date), the
    # dependents of an insured person (same 記号・番号) and the extraction, which reads an
    # employer's people in 記号・番号・枝番 order. Every further index slows the import.
    UniqueConstraint("insurer_number", "symbol", "number", "branch"),
    Index(None, "my_number_bidx"),
    CheckConstraint("relationship IN (1, 2)", name="relationship"),
    CheckConstraint("sex IN (1, 2)", name="sex"),
    CheckConstraint("my_number_status IN ('none', 'registered', 'needs_check')", name="mn_status"),
)


def spaceless(column: ColumnElement[str]) -> ColumnElement[str]:
    """A name or フリガナ without the U+3000 between its parts (normalize_name and
    normalize_kana join parts with exactly one): the key of the console's name search, so
    田中舞 and 田中　舞 find the same person. Constants are SQL literals, not parameters, so
    the index below matches the query's expression. (PostgreSQL: the migration builds the
    index with COLLATE "C", and the search compares with it, so a prefix is a byte range.)"""
    return func.replace(column, literal_column("'\u3000'"), literal_column("''"))


# The staff console's search by name or フリガナ, typed with or without the space: a prefix
# range on these (issue 16: a common name among 1M members in < 200 ms). They cover what a
# page of results is chosen by (the id, 記号・番号・枝番, 生年月日: SQLite as key columns
# after the expression, PostgreSQL as INCLUDE with the name itself, which its planner needs
# for an index-only scan of an expression), so counting 36,000 佐藤 and picking the 50 of a
# page never reads the table (migration 0010). They slow the import; the search cannot do
# without them.
SEARCH_COVERS = ("id", "symbol", "number", "branch", "birth_date")
Index(
    "ix_persons_search_name",
    spaceless(persons.c.name),
    postgresql_include=["name", *SEARCH_COVERS],
)
Index(
    "ix_persons_search_kana",
    spaceless(persons.c.name_kana),
    postgresql_include=["name_kana", *SEARCH_COVERS],
)

# Period tables are keyed by (person, start date): the key the importer upserts on and the
# order a person's history is read in. On SQLite they are WITHOUT ROWID: one B-tree, not two.
eligibility_periods = Table(
    "eligibility_periods",
    metadata,
    Column("person_id", ForeignKey("persons.id"), primary_key=True),
    Column("eligible_from", Date, primary_key=True),
    Column("lost_on", Date),  # first day NOT covered
    Column("loss_reason", String(2)),  # 01 死亡 02 生活保護 03 他の医療保険取得 99 その他
    Column("row_hash", LargeBinary(16), nullable=False),
    Column("import_id", ForeignKey("import_runs.id")),
    CheckConstraint("lost_on IS NULL OR lost_on > eligible_from", name="period_order"),
    sqlite_with_rowid=False,
)

pay_periods = Table(
    "pay_periods",
    metadata,
    Column("person_id", ForeignKey("persons.id"), primary_key=True),
    Column("effective_from", Date, primary_key=True),
    Column("standard_monthly_pay", Integer),
    Column("tax_exempt", Boolean, nullable=False),
    sqlite_with_rowid=False,
)

mynacard_registrations = Table(
    "mynacard_registrations",
    metadata,
    Column("person_id", ForeignKey("persons.id"), primary_key=True),
    Column("registered_on", Date, primary_key=True),
    Column("cancelled_on", Date),
    Column("ecert_expires_on", Date),
    sqlite_with_rowid=False,
)


# ---------------------------------------------------------------- the issuance ledger
# A run freezes its targets at extraction: every printed value, so that resume and
# re-execution render the same bytes whatever the registry does meanwhile.

runs = Table(
    "runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # full / follow_up / reissue (資格情報のお知らせ); certificates / renewals (資格確認書)
    Column("kind", String(12), nullable=False),
    Column("after_run_id", ForeignKey("runs.id")),  # a follow-up's predecessor
    Column("extraction_date", Date, nullable=False),  # 抽出日, or a follow-up's cut-off
    Column("issued_on", Date, nullable=False),  # 作成日 printed on the documents
    Column("status", String(12), nullable=False),  # extracting / extracted / done
    Column("output_url", Text, nullable=False),  # a directory or fsspec URL
    Column("settings_json", Text, nullable=False),  # what shaped the documents, frozen
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("targets", BigInteger, nullable=False, default=0),
    Column("held", BigInteger, nullable=False, default=0),
    Column("partitions", BigInteger, nullable=False, default=0),
    Column("expiring_before", Date),  # a renewal run: certificates expiring before this day
    CheckConstraint(
        "kind IN ('full', 'follow_up', 'certificates', 'renewals', 'reissue')", name="kind"
    ),
    CheckConstraint("status IN ('extracting', 'extracted', 'done')", name="status"),
)

run_partitions = Table(
    "run_partitions",
    metadata,
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("partition_no", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),  # parcel (an employer) / batch (home mail)
    Column("employer_id", ForeignKey("employers.id")),
    Column("area", String(7)),  # a batch's postal area
    Column("targets", Integer, nullable=False),
    # The employer as printed on the label and cover letter, frozen like the targets.
    Column("recipient", Text),
    Column("recipient_symbol", String(16)),
    Column("postal_code", String(7)),
    Column("address", Text),
    Column("phone", String(32)),
    Column("status", String(8), nullable=False),  # pending / done
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64)),
    Column("size", BigInteger),
    Column("pages", Integer),
    # certificates.card_layout = "sheet": the partition's cards n-up (file_name, "-cards.pdf")
    Column("sheet_sha256", String(64)),
    Column("sheet_size", BigInteger),
    Column("sheet_pages", Integer),
    CheckConstraint("kind IN ('parcel', 'batch')", name="kind"),
    CheckConstraint("status IN ('pending', 'done')", name="status"),
    # The employer portal reads an employer's parcels across every run (docs/console.md).
    Index(None, "employer_id"),
    sqlite_with_rowid=False,
)

run_targets = Table(
    "run_targets",
    metadata,
    # Keyed in print order: rendering, recording and verify read a partition's targets as one
    # range of the clustered key, never a sort. Held targets sit in partition 0.
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("partition_no", Integer, primary_key=True),
    Column("piece_no", Integer, primary_key=True),  # 1-based within the partition
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("status", String(8), nullable=False),  # ready / held
    Column("held_reason", Text),  # 印字できない文字: 氏名 U+XXXX …; 規則: …
    Column("employer_id", ForeignKey("employers.id"), nullable=False),
    Column("symbol", String(16), nullable=False),
    Column("number", String(16), nullable=False),
    Column("branch", String(2), nullable=False),
    Column("relationship", SmallInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("name_kana", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger),  # None when the notice omits 性別
    Column("eligible_from", Date, nullable=False),
    Column("copay_rate", SmallInteger, nullable=False),
    Column("my_number_state", String(12), nullable=False),
    Column("my_number_last4", String(4)),  # exactly what is printed, nothing more
    Column("insured_name", Text, nullable=False),
    Column("delivery", String(8), nullable=False),
    Column("postal_code", String(7)),
    Column("address", Text),
    Column("content_hash", LargeBinary(32), nullable=False),  # every printed value
    Column("change_hash", LargeBinary(32), nullable=False),  # what a follow-up compares
    Column("page_first", Integer),  # set when its partition is rendered
    Column("page_last", Integer),
    Column("container_no", Integer),
    # 資格確認書 runs only (null for notices): what the certificate prints besides the above.
    Column("cert_reason", String(24)),  # domain CertificateReason
    Column("valid_until", Date),  # 有効期限
    Column("effective_from", Date),  # 発効期日 (70-74)
    Column("cap_category", String(16)),  # 限度額適用区分 label, only when asked for
    Column("supersedes", Boolean),  # the person holds an earlier certificate, now void
    # A person is targeted once per run; a follow-up looks earlier runs up by person.
    UniqueConstraint("run_id", "person_id"),
    CheckConstraint("status IN ('ready', 'held')", name="status"),
    sqlite_with_rowid=False,
)

run_containers = Table(
    "run_containers",
    metadata,
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("partition_no", Integer, primary_key=True),
    Column("container_no", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),  # envelope / box / letter
    Column("container_count", Integer, nullable=False),
    Column("first_piece", Integer, nullable=False),
    Column("last_piece", Integer, nullable=False),
    Column("sheets", Integer, nullable=False),
    Column("page_first", Integer, nullable=False),
    Column("page_last", Integer, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("address", Text, nullable=False),
    Column("barcode_data", Text),  # Barcode.data: digits, "-", [CC1]…
    CheckConstraint("kind IN ('envelope', 'box', 'letter')", name="kind"),
    sqlite_with_rowid=False,
)

# An extraction runs as tasks (issuance/extract.py). Each task writes its ledger rows and
# its summary here in one transaction: a task that Dask runs twice finds its summary and
# writes nothing again. Emptied when the run's extraction starts over.
run_extract_tasks = Table(
    "run_extract_tasks",
    metadata,
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("task", String(32), primary_key=True),  # "range 123" (first rank) / "letters 4567"
    Column("summary", Text, nullable=False),  # JSON counts
    sqlite_with_rowid=False,
)

# Home letters between the range task that meets them and the task that batches their postal
# area: keyed in mailing order (郵便番号, 記号, 番号 numerically, 枝番, as bytes), so a postal
# area is one key range. Each row leaves when its batch is written.
run_letters = Table(
    "run_letters",
    metadata,
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("sort_key", LargeBinary, primary_key=True),
    Column("target", Text, nullable=False),  # the run_targets row (JSON)
    sqlite_with_rowid=False,
)


# ---------------------------------------------------------------- 資格確認書 (certificates)
# A certificate exists once its run's partition is recorded done (issuance/record.py, in the
# same transaction): one per person and run, so a resume can never issue it twice.
# "Valid on day D" = issued_on <= D <= valid_until, superseded_on null or > D, returned_on
# null or > D (domain.certificate.holds_valid_certificate).

certificates = Table(
    "certificates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("run_id", ForeignKey("runs.id"), nullable=False),
    Column("partition_no", Integer, nullable=False),  # with run_id: the run_targets row
    Column("piece_no", Integer, nullable=False),
    Column("issued_on", Date, nullable=False),  # 交付年月日
    Column("valid_until", Date, nullable=False),  # 有効期限 (inclusive)
    Column("effective_from", Date),  # 発効期日 (70-74 only)
    Column("reason", String(24), nullable=False),  # domain CertificateReason
    Column("cap_requested", Boolean, nullable=False, default=False),  # 限度額適用区分 printed
    Column("superseded_by", ForeignKey("certificates.id")),  # the newer certificate
    Column("superseded_on", Date),  # its 交付年月日: this one is void from that day
    Column("returned_on", Date),  # came back to the insurer (void from that day)
    UniqueConstraint("run_id", "person_id"),
    Index("ix_certificates_person_id_valid_until", "person_id", "valid_until"),
)

# Applications (申請): lost card, renewal in progress, 要配慮者. Open until a certificate
# answers it (closed_by); a 要配慮者 application keeps the person renewed afterwards.
certificate_applications = Table(
    "certificate_applications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("reason", String(24), nullable=False),  # lost / renewal / needs_assistance
    Column("applied_on", Date, nullable=False),
    Column("cap_requested", Boolean, nullable=False, default=False),  # 限度額適用区分 asked for
    Column("closed_by", ForeignKey("certificates.id")),
    CheckConstraint("reason IN ('lost', 'renewal', 'needs_assistance')", name="reason"),
    Index("ix_certificate_applications_person_id", "person_id"),
)

# Return requests: eligibility ended (lost_on) on or before the certificate's 有効期限.
# Recorded at the start of every certificate run (idempotent: one per certificate); listed
# in that run's returns.csv (notified_run_id). The return itself is certificates.returned_on.
certificate_returns = Table(
    "certificate_returns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("certificate_id", ForeignKey("certificates.id"), nullable=False),
    Column("lost_on", Date, nullable=False),  # 資格喪失日 that makes it due
    Column("requested_on", Date, nullable=False),  # the run's 作成日
    Column("notified_run_id", ForeignKey("runs.id")),  # the run whose returns list carries it
    UniqueConstraint("certificate_id"),
)


# ---------------------------------------------------------------- clinics and the audit log
# A clinic (医療機関) calls the eligibility API with a key `sk_<key_id>_<secret>`: key_id finds
# the row (unique, hence indexed), key_hash is SHA-256 of the 32 random secret bytes.
# See service/clinics.py, security/apikeys.py and docs/security.md.

clinics = Table(
    "clinics",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("institution_code", String(10), nullable=False),  # 医療機関コード, check digit valid
    Column("name", Text, nullable=False),
    Column("key_id", String(16), nullable=False),  # public part of the key, finds the row
    Column("key_hash", LargeBinary(32), nullable=False),  # SHA-256 of the secret part
    Column("created_at", DateTime, nullable=False),  # UTC; when the current key was issued
    Column("revoked_at", DateTime),  # UTC; a revoked key never authenticates
    UniqueConstraint("institution_code"),
    UniqueConstraint("key_id"),
)

# Every read of a member's data by a clinic or by staff, as a hash chain: row_hash =
# SHA-256(prev_hash || canonical(id, at, clinic_id, kind, person_id, result, detail)).
# Ids are assigned by the writer under a lock (security/audit.py), never by a sequence, so
# they have no gaps: a gap is a deleted row. No index but the key: every index slows writes.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),  # UTC
    Column("clinic_id", ForeignKey("clinics.id")),  # none for staff (console_read)
    Column("kind", String(32), nullable=False),  # eligibility / fhir_coverage / console_read …
    Column("person_id", BigInteger),  # none when nobody was found; no FK: a log never blocks
    Column("result", String(32)),  # short outcome, e.g. a validity code
    Column("detail", Text),  # short JSON; never a My Number digit
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("row_hash", LargeBinary(32), nullable=False),
)
# Staff rows only (clinic_id null: console and portal reads and changes), for the auditors'
# page (by person, by date): a partial index leaves the clinic API's writes untouched.
Index(
    "ix_audit_log_staff_person",
    audit_log.c.person_id,
    sqlite_where=audit_log.c.clinic_id.is_(None),
    postgresql_where=audit_log.c.clinic_id.is_(None),
)
Index(
    "ix_audit_log_staff_at",
    audit_log.c.at,
    sqlite_where=audit_log.c.clinic_id.is_(None),
    postgresql_where=audit_log.c.clinic_id.is_(None),
)


# ---------------------------------------------------------------- staff console and employer portal
# See docs/console.md. Passwords are scrypt hashes (security/passwords.py); a session is a
# random token in an HttpOnly cookie whose SHA-256 is the key of console_sessions.

console_users = Table(
    "console_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),  # login name
    Column("password_hash", Text, nullable=False),  # scrypt$n$r$p$salt$hash (base64)
    Column("role", String(12), nullable=False),  # admin / operator / auditor / employer
    Column("employer_id", ForeignKey("employers.id")),  # an employer user's 事業所
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime),
    UniqueConstraint("name"),
    CheckConstraint("role IN ('admin', 'operator', 'auditor', 'employer')", name="role"),
    CheckConstraint("(role = 'employer') = (employer_id IS NOT NULL)", name="employer"),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),  # SHA-256 of the cookie's token
    Column("user_id", ForeignKey("console_users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),  # the session's form token
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# Every login attempt: throttling counts recent failures per login name and per address.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_name_at", "name", "at"),
)

# A My Number a member reported wrong (the dedicated dial): the new number encrypted by the
# vault, only its last 4 digits in clear; a second staff member approves (four eyes).
my_number_reports = Table(
    "my_number_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("new_ct", LargeBinary, nullable=False),  # AES-GCM ciphertext
    Column("new_bidx", LargeBinary(16), nullable=False),  # blind index
    Column("new_last4", String(4), nullable=False),
    Column("old_last4", String(4)),  # what was printed, if any
    Column("status", String(10), nullable=False),  # pending / approved / rejected
    Column("recorded_by", ForeignKey("console_users.id"), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("decided_by", ForeignKey("console_users.id")),
    Column("decided_at", DateTime),
    Column("decision_note", Text),  # why it was approved or rejected (the decider's words)
    Column("reissue_run_id", ForeignKey("runs.id")),  # the notice reissued on approval
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    CheckConstraint("decided_by IS NULL OR decided_by <> recorded_by", name="four_eyes"),
)

# Reissues of a notice (lost, My Number corrected): each is a run of kind reissue.
reissue_requests = Table(
    "reissue_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    # lost / damaged / undelivered / other (the member's call) / my_number (a correction)
    Column("reason", String(12), nullable=False),
    Column("note", Text),  # the operator's words, from the confirmation step
    Column("requested_by", ForeignKey("console_users.id"), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("run_id", ForeignKey("runs.id")),
    CheckConstraint(
        "reason IN ('lost', 'damaged', 'undelivered', 'other', 'my_number')", name="reason"
    ),
)

# One row per form shown by the console or the portal (its idempotency key): the first
# submission claims it, a second one with the same key is refused and shown the first one's
# outcome (done_*). Rows older than a day are removed as new ones come.
console_form_keys = Table(
    "console_form_keys",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("user_id", ForeignKey("console_users.id"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("done_url", Text),  # where the first submission led
    Column("done_message", Text),  # what it said
    Column("done_level", String(8)),  # ok / held / error
)

# Work an admin started from the console in the background (a run's extraction and
# rendering, a verification), and how it ended; a run's progress is read from the ledger.
console_jobs = Table(
    "console_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # run / verify
    Column("run_id", ForeignKey("runs.id"), nullable=False),
    Column("user_id", ForeignKey("console_users.id"), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(8), nullable=False),  # running / done / failed
    Column("message", Text),  # the outcome (verification problems, the error)
    Column("host", String(255), nullable=False),  # with pid: a job whose process is gone
    Column("pid", Integer, nullable=False),
    CheckConstraint("kind IN ('run', 'verify')", name="kind"),
    CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
    Index("ix_console_jobs_run_id", "run_id"),
)

# 配付: the employer handed the envelopes of an insured person's household out.
hand_outs = Table(
    "hand_outs",
    metadata,
    Column("run_id", ForeignKey("runs.id"), primary_key=True),
    Column("person_id", ForeignKey("persons.id"), primary_key=True),  # the insured person
    Column("handed_out_at", DateTime, nullable=False),
    Column("user_id", ForeignKey("console_users.id"), nullable=False),
)

# 返戻: an envelope came back (reported by the employer or recorded by the insurer): the
# person left (left_on: the day the employer says they left) or the address is unknown.
# A follow-up run leaves out people reported left on or before its cut-off and prints again
# for people whose envelope came back undelivered (issuance/extract.py).
envelope_returns = Table(
    "envelope_returns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("runs.id"), nullable=False),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("reason", String(16), nullable=False),  # left / unknown_address
    Column("left_on", Date),
    Column("left_reason", String(16)),  # a leaver's: retired / died / dependent / other
    Column("source", String(8), nullable=False),  # employer / insurer
    Column("user_id", ForeignKey("console_users.id"), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    # An employer's report awaits the envelope until the insurer records its arrival.
    Column("received_at", DateTime),
    UniqueConstraint("run_id", "person_id"),
    CheckConstraint("reason IN ('left', 'unknown_address')", name="reason"),
    CheckConstraint(
        "left_reason IS NULL OR left_reason IN ('retired', 'died', 'dependent', 'other')",
        name="left_reason",
    ),
    CheckConstraint("source IN ('employer', 'insurer')", name="source"),
)
