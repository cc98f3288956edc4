"""The directory: who works where, with which roles, ladders and distribution days (a validated YAML file).

- `model`: the file's shape (pydantic) and its problems;
- `lookup`: `Directory`, the validated directory with lookups, replaced in place on a reload;
- `loading`: reading and validating a file (`load_directory`, `parse_directory`), problems with line numbers;
- `writing`, `changes`, `csv_import`, `entra`, `handover`: `gfi-bot directory import|sync` (an HR export or
  Entra ID written as the same YAML file), the dry-run's differences and the refusal or hand-over of what a
  person leaving a unit still holds;
- `reload`: a running bot picks up a changed file (SIGHUP, and a check every 30 seconds).
"""

from bot.directory.loading import load_directory, parse_directory
from bot.directory.lookup import Directory
from bot.directory.model import (
    WEEKDAY_NAMES_SV,
    WEEKDAYS,
    AfterHoursContact,
    Channel,
    DirectoryError,
    DirectoryFile,
    DirectoryProblem,
    DistributionSpec,
    DueSpec,
    OfficeHoursSpec,
    Person,
    Principal,
    PrincipalKind,
    Role,
    Rung,
    Unit,
)

__all__ = [
    "WEEKDAYS",
    "WEEKDAY_NAMES_SV",
    "AfterHoursContact",
    "Channel",
    "Directory",
    "DirectoryError",
    "DirectoryFile",
    "DirectoryProblem",
    "DistributionSpec",
    "DueSpec",
    "OfficeHoursSpec",
    "Person",
    "Principal",
    "PrincipalKind",
    "Role",
    "Rung",
    "Unit",
    "load_directory",
    "parse_directory",
]
