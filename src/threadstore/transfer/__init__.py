"""Moving data: export/import files, DSN-to-DSN copy, SQLite online backup, verification.

Everything works table by table over ``threadstore.models.Base.metadata``, so a
later schema revision's tables and columns move without code changes. See
docs/operations.md.
"""

from threadstore.transfer.backup import BackupSummary, backup_database
from threadstore.transfer.copy import CopySummary, VerificationError, copy_database
from threadstore.transfer.format import FORMAT_NAME, FORMAT_VERSION
from threadstore.transfer.reader import ImportSummary, import_database
from threadstore.transfer.session import ProgressCallback
from threadstore.transfer.verify import TableCheck, VerifyReport, verify_databases
from threadstore.transfer.writer import ExportSummary, export_database

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "BackupSummary",
    "CopySummary",
    "ExportSummary",
    "ImportSummary",
    "ProgressCallback",
    "TableCheck",
    "VerificationError",
    "VerifyReport",
    "backup_database",
    "copy_database",
    "export_database",
    "import_database",
    "verify_databases",
]
