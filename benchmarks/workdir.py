"""The scaffold every real-footage benchmark shares: a work folder, one-line errors, a JSON out.

Made videos can be kept (``--work-dir``) so a rerun with another export skips making them; with
no work folder a temporary one is used and removed, whatever happens.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impairments import media_io


def run_and_write(
    run: Callable[[Any, Path], dict[str, Any]], args: Any, prefix: str
) -> dict[str, Any]:
    """``run(args, work)`` in ``args.work_dir`` (or a temporary folder), result to ``args.output``.

    A bad input or setting ends as one ``error:`` line and exit status 2, not a traceback.
    """
    scratch = None if args.work_dir else tempfile.mkdtemp(prefix=prefix)
    work = args.work_dir or Path(scratch)  # type: ignore[arg-type]
    try:
        result = run(args, work)
    except (FileNotFoundError, ValueError, RuntimeError, media_io.MediaError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return result
