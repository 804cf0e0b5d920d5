"""Download the corpus files listed in SOURCES (repository, path, commit) into this folder.

    python tests/localorg/flows/corpus/fetch.py

The files are third-party code from public Salesforce projects; they are kept out of this repository's
commits and fetched from their exact commits on raw.githubusercontent.com instead.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    for line in (HERE / "SOURCES").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        repo, path, commit = line.split()
        target = HERE / Path(path).name
        if target.exists():
            continue
        with urllib.request.urlopen(f"https://raw.githubusercontent.com/{repo}/{commit}/{path}", timeout=30) as r:
            target.write_bytes(r.read())
        print(f"fetched {target.name}")


if __name__ == "__main__":
    main()
