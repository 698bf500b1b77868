"""The model store: fitted detectors stored under a name with versions.

Metadata lives in a database (SQLite under ``PYNOMALY_HOME`` by default, PostgreSQL through
``PYNOMALY_DATABASE_URL``), artefacts on the filesystem as saved-model directories (:mod:`persistence`).

Registering is crash-safe and concurrent:

1. one short transaction allocates the next version number (a per-name counter, updated under the write lock;
   numbers are never reused, even after a delete) and inserts the version as ``pending``;
2. the artefacts are written into ``staging/<id>/`` and renamed into ``models/<name>/<version>-<id>/``;
3. a second transaction marks the version ``ready`` and writes its ``register`` event and audit record.

Every model, version and alias belongs to the store's tenant (``default`` unless named; :meth:`ModelStore.view`
gives the same database seen by another tenant or actor), and artefacts of other tenants live under
``tenants/<tenant>/``. Every change commits together with its record in the hash-chained audit log
(:mod:`pynomaly_core.governance.audit`); the lifecycle (submit, approve, …, aliases) is
:class:`pynomaly_core.modelstore.governed.Governed`.

Readers only ever see ``ready`` versions, so a process killed at any point leaves no half-registered version;
:meth:`ModelStore.cleanup` removes what such a process left (its row and folders) once its owner is known dead
(same host) or the row is older than ``max_age_s``. Deleting marks the row ``deleting``, removes the artefacts,
then the row. A version that other versions name as their parent may be deleted: lineage then shows it as
deleted.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import math
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pynomaly_core.errors import InputError, IntegrityError, PynomalyError
from pynomaly_core.governance.tenants import DEFAULT_TENANT, check_tenant, tenant_from_env
from pynomaly_core.modelstore.engine import check_url, create_engines, redacted, require_sqlalchemy
from pynomaly_core.modelstore.errors import ModelNotFoundError, ModelStoreError
from pynomaly_core.modelstore.governed import Governed, default_actor
from pynomaly_core.modelstore.paths import (
    DATABASE_SCHEMA_ENV,
    DATABASE_URL_ENV,
    MODELS_DIR,
    STAGING_DIR,
    check_name,
    default_home,
    split_ref,
    sqlite_url,
)
from pynomaly_core.modelstore.provenance import (
    current_host,
    current_pid,
    library_versions,
    process_is_gone,
)
from pynomaly_core.modelstore.version import ModelVersion

DEFAULT_MAX_AGE_S = 3600.0


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _Connection:
    """The engines and lock a store shares with its views."""

    def __init__(self) -> None:
        self.engine: Any = None
        self.write_engine: Any = None
        self.pid = os.getpid()
        self.lock = threading.Lock()


class ModelStore(Governed):
    """Named, versioned fitted detectors; see the module docstring for the guarantees.

    ``tenant`` (default ``default``) scopes everything the store reads and writes; ``actor`` is who the changes
    and audit records are attributed to (default: the login name, or ``$PYNOMALY_ACTOR``);
    ``required_approvals`` is how many distinct reviewers must approve a version (default
    ``$PYNOMALY_REQUIRED_APPROVALS`` or 1).
    """

    def __init__(self, url: str | None = None, home: str | Path | None = None, *, schema: str | None = None,
                 tenant: str | None = None, actor: str | None = None, required_approvals: int | None = None):
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.url = url or sqlite_url(self.home)
        self.schema = schema or None
        self.tenant = check_tenant(tenant or DEFAULT_TENANT)
        self.actor = actor or default_actor()
        self.request_id: str | None = None
        self.required_approvals = _approvals(required_approvals)
        self._shared = _Connection()
        check_url(self.url, self.schema)

    @classmethod
    def from_env(cls) -> ModelStore:
        """``PYNOMALY_DATABASE_URL`` (else SQLite in ``PYNOMALY_HOME``), ``PYNOMALY_DATABASE_SCHEMA``,
        ``PYNOMALY_TENANT``."""
        return cls(url=os.environ.get(DATABASE_URL_ENV) or None, home=default_home(),
                   schema=os.environ.get(DATABASE_SCHEMA_ENV) or None, tenant=tenant_from_env())

    def view(self, *, tenant: str | None = None, actor: str | None = None,
             request_id: str | None = None) -> ModelStore:
        """The same database (and connections) seen by another tenant and/or actor; cheap, for one request."""
        other = copy.copy(self)
        if tenant is not None:
            other.tenant = check_tenant(tenant)
        if actor is not None:
            other.actor = actor
        other.request_id = request_id
        return other

    @property
    def _engine(self) -> Any:
        return self._shared.engine

    @property
    def _write_engine(self) -> Any:
        return self._shared.write_engine

    @property
    def location(self) -> str:
        """The database URL without its password (plus the schema, if any)."""
        where = redacted(self.url)
        return f"{where} (schema {self.schema})" if self.schema else where

    def __repr__(self) -> str:
        return f"ModelStore({self.location!r}, home={str(self.home)!r})"

    def close(self) -> None:
        """Release the database connections (the store reconnects on next use)."""
        shared = self._shared
        with shared.lock:
            if shared.engine is not None:
                shared.engine.engine.dispose()
            shared.engine = shared.write_engine = None

    def __enter__(self) -> ModelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the public API ------------------------------------------------------------------------------------
    def register(
        self,
        name: str,
        detector: Any,
        *,
        data_fingerprint: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        parent: str | ModelVersion | None = None,
        training_s: float | None = None,
    ) -> ModelVersion:
        """Store the fitted ``detector`` as the next version of ``name``; returns the new version. With
        ``$PYNOMALY_LINEAGE_URL`` set, the registration is an OpenLineage ``pynomaly.train`` run (the training data
        in, the model version out)."""
        from pynomaly_core.governance import lineage

        active = lineage.current()  # a training run already started (the CLI's, from before the fit)
        emitter = None if active is not None else lineage.Emitter.from_env()
        if active is None and emitter is None:
            return self._register(name, detector, data_fingerprint, metrics, parent, training_s)
        source = (data_fingerprint or {}).get("source") or f"training-data/{name}"
        with contextlib.nullcontext(active) if active is not None else lineage.run(
                "pynomaly.train", inputs=[lineage.dataset(source, data_fingerprint)], emitter=emitter) as current:
            model_version = self._register(name, detector, data_fingerprint, metrics, parent, training_s)
            current.inputs[:] = [lineage.dataset(source, data_fingerprint)]
            current.outputs.append(lineage.model_dataset(model_version))
            current.facets["pynomaly_training"] = lineage.training_facet(
                training_s=training_s, metrics=dict(metrics or {}), actor=self.actor, tenant=self.tenant)
        return model_version

    def _register(self, name: str, detector: Any, data_fingerprint: dict[str, Any] | None,
                  metrics: dict[str, float] | None, parent: str | ModelVersion | None,
                  training_s: float | None) -> ModelVersion:
        from pynomaly_core.persistence import spec_of

        check_name(name)
        check_fitted = getattr(detector, "_check_fitted", None)
        if check_fitted is not None:
            check_fitted()
        spec = spec_of(detector)
        params = detector.get_params()
        try:
            json.dumps(params)
        except (TypeError, ValueError):
            raise PynomalyError(f"{spec.qualified_name}: parameters {params!r} are not JSON-serialisable; "
                                "cannot register") from None
        record = {
            "tenant": self.tenant,
            "name": name,
            "detector": spec.qualified_name,
            "plugin": spec.plugin,
            "params": params,
            "versions": library_versions(spec.plugin),
            "fingerprint": None if data_fingerprint is None else dict(data_fingerprint),
            "metrics": _finite_metrics(metrics),
            "training_s": None if training_s is None else float(training_s),
            "created_by": self.actor,
            "token": uuid.uuid4().hex,
            "owner_host": current_host(),
            "owner_pid": current_pid(),
        }
        self._connect()
        with self._db():
            if parent is not None:
                record["parent_name"], record["parent_version"] = self._existing_parent(parent)
            with self._write_engine.begin() as connection:
                version = self._allocate_version(connection, name)
                record.update(version=version, status=self._t.PENDING, stage="draft", created_at=utc_now(),
                              path=f"{self._models_dir()}/{name}/{version}-{record['token'][:8]}")
                connection.execute(self._sa.insert(self._t.versions_table).values(**record))
        model_version = self._to_version(record)
        try:
            try:
                self._write_artefacts(detector, model_version, record["token"])
            except OSError as exc:
                raise ModelStoreError(f"cannot write the artefacts of {model_version.ref} under {self.home}: "
                                    f"{exc}") from exc
            with self._db(), self._write_engine.begin() as connection:
                done = connection.execute(self._sa.update(self._t.versions_table).where(
                    self._t.versions_table.c.token == record["token"],
                    self._t.versions_table.c.status == self._t.PENDING,
                ).values(status=self._t.READY)).rowcount
                if done == 1:
                    self._event(connection, name, model_version.version, "register", None, "draft")
                    self._audit(connection, "model.register", model_version.ref,
                                details={"detector": record["detector"], "parent": model_version.parent,
                                         "data_sha256": (record["fingerprint"] or {}).get("sha256")})
            if done != 1:
                raise ModelStoreError(f"{model_version.ref} was removed by a store cleanup while it was being "
                                    "saved; register it again")
        except BaseException:
            self._abandon(record["token"], model_version.path)
            raise
        return model_version

    def list(self, name: str | None = None) -> list[ModelVersion]:
        """Every ready version (of ``name``, or of every model), by name, newest version first."""
        if name is not None:
            check_name(name)
        if not self._connect(create=False):
            return []
        table = self._t.versions_table
        query = self._sa.select(table).where(table.c.tenant == self.tenant, table.c.status == self._t.READY)
        if name is not None:
            query = query.where(table.c.name == name)
        with self._db(), self._engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.name, table.c.version.desc())).mappings().all()
        return [self._to_version(row) for row in rows]

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """Version ``version`` of ``name`` (the latest when ``None``) or :class:`ModelNotFoundError`."""
        check_name(name)
        version = _check_version(version)
        if not self._connect(create=False):
            raise ModelNotFoundError(f"no model named {name!r}: the model store at {self.location} is empty")
        table = self._t.versions_table
        query = self._sa.select(table).where(table.c.tenant == self.tenant, table.c.name == name,
                                             table.c.status == self._t.READY)
        query = (query.order_by(table.c.version.desc()).limit(1) if version is None
                 else query.where(table.c.version == version))
        with self._db(), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
            if row is None:
                raise self._not_found(connection, name, version)
        return self._to_version(row)

    def resolve(self, ref: str) -> ModelVersion:
        """The version a ``NAME[@VERSION]`` or ``NAME@ALIAS`` (``champion``, ``challenger``, …) reference names."""
        name, version, alias = split_ref(ref)
        if alias is not None:
            version = self.alias_version(name, alias)
        return self.get(name, version)

    def load(self, name: str, version: int | None = None, *, trust: bool = False) -> Any:
        """The fitted detector of ``name@version`` (latest when ``None``); hashes are checked."""
        return load_version(self.get(name, version), trust=trust)

    def delete(self, name: str, version: int) -> None:
        """Remove ``name@version``: its row and its artefacts. Versions naming it as parent keep their lineage
        (shown as deleted)."""
        check_name(name)
        version = _check_version(version)
        if version is None:
            raise InputError(f"give the version to delete: {name}@VERSION")
        self._connect()
        table = self._t.versions_table
        with self._db():
            with self._write_engine.begin() as connection:
                claimed = connection.execute(self._sa.update(table).where(
                    table.c.tenant == self.tenant, table.c.name == name, table.c.version == version,
                    table.c.status == self._t.READY,
                ).values(status=self._t.DELETING, owner_host=current_host(), owner_pid=current_pid())).rowcount
                if claimed != 1:
                    raise self._not_found(connection, name, version)
                token, path, stage = connection.execute(self._sa.select(table.c.token, table.c.path, table.c.stage)
                                                        .where(table.c.tenant == self.tenant, table.c.name == name,
                                                               table.c.version == version)).one()
                self._drop_aliases(connection, name, version)
                self._event(connection, name, version, "delete", stage, None)
                self._audit(connection, "model.delete", f"{name}@{version}")
            self._remove_files(token, path)
            with self._write_engine.begin() as connection:
                connection.execute(self._sa.delete(table).where(table.c.token == token))

    def lineage(self, name: str, version: int | None = None) -> list[dict[str, Any]]:
        """``name@version`` and its ancestors, nearest first: ``{"ref", "deleted"}`` (a deleted ancestor ends
        the chain, since its own parent is gone with it)."""
        current: ModelVersion | None = self.get(name, version)
        chain: list[dict[str, Any]] = []
        seen: set[str] = set()
        while current is not None and current.ref not in seen:
            seen.add(current.ref)
            chain.append({"ref": current.ref, "deleted": False})
            if current.parent is None:
                break
            try:
                current = self.resolve(current.parent)
            except ModelNotFoundError:
                chain.append({"ref": current.parent, "deleted": True})
                current = None
        return chain

    def unfinished(self) -> list[dict[str, Any]]:
        """Versions that are not ready (being saved or deleted, or left so by a process that died)."""
        if not self._connect(create=False):
            return []
        table = self._t.versions_table
        query = self._sa.select(table.c.name, table.c.version, table.c.status, table.c.created_at,
                                table.c.owner_host, table.c.owner_pid, table.c.token, table.c.path)
        with self._db(), self._engine.connect() as connection:
            rows = connection.execute(query.where(table.c.status != self._t.READY)
                                      .order_by(table.c.name, table.c.version)).mappings().all()
        return [{**row, "ref": f"{row['name']}@{row['version']}"} for row in rows]

    def cleanup(self, *, max_age_s: float = DEFAULT_MAX_AGE_S) -> list[str]:
        """Remove what crashed registrations and deletes left behind; returns what was removed.

        A pending version is stale when its process is gone (same host) or it is older than ``max_age_s``; an
        interrupted delete is always finished. Staging folders that belong to no pending version and are older
        than ``max_age_s`` go too.
        """
        removed: list[str] = []
        now = datetime.now(timezone.utc)
        for row in self.unfinished():
            age = (now - datetime.fromisoformat(row["created_at"])).total_seconds()
            if not (row["status"] == self._t.DELETING or age > max_age_s
                    or process_is_gone(row["owner_host"], row["owner_pid"])):
                continue
            table = self._t.versions_table
            with self._db():
                if row["status"] == self._t.PENDING:  # claim it first: its owner can no longer mark it ready
                    with self._write_engine.begin() as connection:
                        claimed = connection.execute(self._sa.update(table).where(
                            table.c.token == row["token"], table.c.status == self._t.PENDING,
                        ).values(status=self._t.DELETING)).rowcount
                    if claimed != 1:
                        continue
                self._remove_files(row["token"], row["path"])
                with self._write_engine.begin() as connection:
                    connection.execute(self._sa.delete(table).where(table.c.token == row["token"]))
            removed.append(f"{row['ref']} ({row['status']})")
        staging = self.home / STAGING_DIR
        if staging.is_dir():
            pending = {row["token"] for row in self.unfinished()}
            for folder in sorted(staging.iterdir()):
                age = now.timestamp() - folder.stat().st_mtime
                if folder.name not in pending and age > max_age_s:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(f"{folder} (orphaned staging folder)")
        return removed

    # -- internals -----------------------------------------------------------------------------------------
    @property
    def _sa(self) -> Any:
        return require_sqlalchemy()

    @property
    def _t(self) -> Any:
        from pynomaly_core.modelstore import schema

        return schema

    def _sqlite_file(self) -> Path | None:
        url = self._sa.engine.make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    def _connect(self, *, create: bool = True) -> bool:
        """Open the database (creating and migrating it if needed); ``False`` when ``create`` is false and the
        SQLite file does not exist yet."""
        shared = self._shared
        with shared.lock:
            if shared.engine is not None and shared.pid != os.getpid():  # forked: never share pooled connections
                shared.engine.engine.dispose(close=False)
                shared.pid = os.getpid()
            if shared.engine is not None:
                return True
            database = self._sqlite_file()
            if database is not None and not database.exists():
                if not create:
                    return False
                try:
                    database.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ModelStoreError(f"cannot create the model store at {self.location}: {exc}") from exc
            engine, write_engine = create_engines(self.url, self.schema)
            try:
                with self._db():
                    self._t.migrate(engine, write_engine, self.schema, self.location)
            except BaseException:
                engine.engine.dispose()
                raise
            shared.engine, shared.write_engine = engine, write_engine
            return True

    @contextlib.contextmanager
    def _db(self) -> Iterator[None]:
        """Database failures become one-line :class:`ModelStoreError` s naming the model store."""
        try:
            yield
        except self._sa.exc.DBAPIError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise ModelStoreError(f"model store {self.location}: {detail[0] if detail else type(exc).__name__}") \
                from exc

    def _allocate_version(self, connection: Any, name: str) -> int:
        """The next version number of ``name`` (atomic: the counter row is locked until commit)."""
        models = self._t.models_table
        dialect = connection.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        connection.execute(insert(models).values(tenant=self.tenant, name=name, last_version=0, created_at=utc_now())
                           .on_conflict_do_nothing(index_elements=["tenant", "name"]))
        mine = (models.c.tenant == self.tenant) & (models.c.name == name)
        connection.execute(self._sa.update(models).where(mine).values(last_version=models.c.last_version + 1))
        return int(connection.execute(self._sa.select(models.c.last_version).where(mine)).scalar_one())

    def _models_dir(self) -> str:
        """Where this tenant's artefacts live, relative to ``home`` (the default tenant keeps ``models/``)."""
        return MODELS_DIR if self.tenant == DEFAULT_TENANT else f"tenants/{self.tenant}/{MODELS_DIR}"

    def _existing_parent(self, parent: str | ModelVersion) -> tuple[str, int]:
        if isinstance(parent, ModelVersion):
            parent = parent.ref
        try:
            found = self.resolve(parent)
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(f"parent {parent}: {exc}") from None
        return found.name, found.version

    def _write_artefacts(self, detector: Any, model_version: ModelVersion, token: str) -> None:
        from pynomaly_core.persistence import MANIFEST, save

        staging = self.home / STAGING_DIR / token
        staging.mkdir(parents=True)
        saved = save(detector, staging / "model")
        manifest_path = saved / MANIFEST
        manifest = json.loads(manifest_path.read_text())
        manifest["store"] = {"name": model_version.name, "version": model_version.version,
                                "parent": model_version.parent}
        manifest["fingerprint"] = model_version.fingerprint
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        from pynomaly_core.modelstore.crypto import key_from_env, seal

        key = key_from_env()
        if key is not None:  # encrypted at rest: one sealed file, no plaintext left behind
            seal(saved, key)
        model_version.path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(saved, model_version.path)
        shutil.rmtree(staging, ignore_errors=True)

    def _remove_files(self, token: str, path: str) -> None:
        shutil.rmtree(self.home / STAGING_DIR / token, ignore_errors=True)
        shutil.rmtree(self.home / path, ignore_errors=True)

    def _abandon(self, token: str, path: Path) -> None:
        """Best-effort undo of a failed registration (a later :meth:`cleanup` catches what this misses)."""
        try:
            shutil.rmtree(self.home / STAGING_DIR / token, ignore_errors=True)
            shutil.rmtree(path, ignore_errors=True)
            table = self._t.versions_table
            with self._write_engine.begin() as connection:
                connection.execute(self._sa.delete(table).where(table.c.token == token,
                                                                table.c.status == self._t.PENDING))
        except Exception:
            pass

    def _not_found(self, connection: Any, name: str, version: int | None) -> ModelNotFoundError:
        table = self._t.versions_table
        ready = (table.c.status == self._t.READY) & (table.c.tenant == self.tenant)
        versions = connection.execute(self._sa.select(table.c.version).where(table.c.name == name, ready)
                                      .order_by(table.c.version)).scalars().all()
        if versions:
            listed = ", ".join(str(v) for v in versions)
            return ModelNotFoundError(f"model {name!r} has no version {version}; versions: {listed}")
        names = connection.execute(self._sa.select(table.c.name).where(ready).distinct()
                                   .order_by(table.c.name)).scalars().all()
        if not names:
            return ModelNotFoundError(f"no model named {name!r}: the model store at {self.location} is empty")
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        shown = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
        return ModelNotFoundError(f"no model named {name!r}{hint}; registered: {shown}")

    def _to_version(self, row: Any) -> ModelVersion:
        parent = (f"{row['parent_name']}@{row['parent_version']}"
                  if row.get("parent_name") is not None else None)
        return ModelVersion(
            name=row["name"], version=int(row["version"]), detector=row["detector"], params=dict(row["params"]),
            plugin=row["plugin"], versions=dict(row["versions"]),
            fingerprint=None if row["fingerprint"] is None else dict(row["fingerprint"]),
            metrics=dict(row["metrics"]), training_s=row["training_s"], created_at=row["created_at"],
            created_by=row["created_by"], parent=parent, path=self.home / row["path"],
            tenant=row.get("tenant", DEFAULT_TENANT), stage=row.get("stage", "draft"),
        )


def load_version(model_version: ModelVersion, *, trust: bool = False) -> Any:
    """Load the artefacts of a registered version (hashes checked by :func:`persistence.load`)."""
    from pynomaly_core.modelstore.crypto import is_sealed, unsealed
    from pynomaly_core.persistence import load

    if not model_version.path.is_dir():
        raise IntegrityError(f"model {model_version.ref}: its artefacts are missing ({model_version.path} does "
                             "not exist)")
    if is_sealed(model_version.path):
        with unsealed(model_version.path, model_version.ref) as plain:
            return load(plain, trust=trust)
    return load(model_version.path, trust=trust)


def _finite_metrics(metrics: dict[str, Any] | None) -> dict[str, float]:
    out = {str(k): float(v) for k, v in (metrics or {}).items()}
    bad = sorted(k for k, v in out.items() if not math.isfinite(v))
    if bad:
        raise InputError(f"metric {bad[0]!r} is {out[bad[0]]}; metrics must be finite numbers")
    return out


def _approvals(required: int | None) -> int:
    if required is None:
        raw = os.environ.get("PYNOMALY_REQUIRED_APPROVALS", "").strip() or "1"
        if not raw.isdigit():
            raise InputError(f"environment variable PYNOMALY_REQUIRED_APPROVALS: expected a positive integer, "
                             f"got {raw!r}")
        required = int(raw)
    if isinstance(required, bool) or not isinstance(required, int) or required < 1:
        raise InputError(f"required_approvals must be a positive integer, got {required!r}")
    return required


def _check_version(version: Any) -> int | None:
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"model version must be a positive integer, got {version!r}")
    return int(version)
