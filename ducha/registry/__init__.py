"""The registry (台账): villages, sponsor units, who helps whom, teams, first secretaries.

Read from .xlsx or .csv, checked cell by cell, written in one transaction.
"""

from ducha.registry.export import write_registry_xlsx, write_sheets_xlsx, write_template_xlsx
from ducha.registry.importer import ImportReport, import_files
from ducha.registry.sheets import SHEETS, SheetSpec

__all__ = [
    "SHEETS",
    "ImportReport",
    "SheetSpec",
    "import_files",
    "write_registry_xlsx",
    "write_sheets_xlsx",
    "write_template_xlsx",
]
