"""Send anonymous public reads to the read replica (READ_DATABASE_URL), everything else to primary.

ReadReplicaMiddleware marks a request as replica-safe: an anonymous GET/HEAD outside the admin.
Editors therefore always read what they just wrote, and writes never go to the replica.
"""

from contextvars import ContextVar

use_replica: ContextVar[bool] = ContextVar("use_replica", default=False)


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        return "replica" if use_replica.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
