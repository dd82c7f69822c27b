"""Print the derivations of every family, one script after another (`--latex` for LaTeX).

Each family has its own script here (`derivations/FAMILY.py`); this runs them all in the
registry's order of families."""
import runpy
import sys
from pathlib import Path

from dropout_theory.registry import registry

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    """One script per registered family (``bias-variance`` is ``bias_variance.py``)."""
    families = dict.fromkeys(identity.family for identity in registry().values())
    return [HERE / f"{family.replace('-', '_')}.py" for family in families]


if __name__ == "__main__":
    try:
        for script in scripts():
            print(f"=== {script.stem} ===", flush=True)
            runpy.run_path(str(script), run_name="__main__")
            if sys.stderr.closed:  # the family's script saw the pipe close (`| head`)
                break
    except BrokenPipeError:  # piped into `head`: not an error of ours
        sys.stderr.close()
