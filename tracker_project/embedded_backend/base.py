"""The project's PostgreSQL backend (tracker_project/postgresql_backend) on the embedded server
under the entry's `EMBEDDED_DATA_DIR`, which starts on the first connection (tracker_project/database.py)."""

from pathlib import Path

from tracker_project.database import start_embedded_server
from tracker_project.postgresql_backend import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        # Into the entry itself (settings.DATABASES' own dict): code that reads it afterwards finds
        # where the server is.
        self.settings_dict.update(start_embedded_server(Path(self.settings_dict["EMBEDDED_DATA_DIR"])))
        return super().get_connection_params()
