"""The README and the docs stay true: their Python runs, CI runs the README's test
command, and the measured figures are what the code measures."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def code_blocks(language: str, text: str = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_readme_stays_short():
    assert len(README.encode()) <= 12_000  # the rest belongs in docs/


def test_python_examples_run(capsys):
    blocks = code_blocks("python")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "['chelsea.png', 'coffee.png', 'rocket.jpg']" in capsys.readouterr().out


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_docs_python_examples_run(page, capsys):
    for block in code_blocks("python", page.read_text()):
        exec(compile(block, str(page.relative_to(ROOT)), "exec"), {})
    # The outputs the pages quote in their comments.
    out = capsys.readouterr().out
    if page.name == "python.md":
        assert "['chelsea.png', 'coffee.png', 'rocket.jpg']" in out
    if page.name == "settings.md":
        assert "{'luminance': 0.953, 'contrast': 1.0, 'structure': 1.0}" in out


def test_readme_links_to_pages_that_exist():
    links = re.findall(r"\]\(((?:docs/)?[\w/.-]+\.md)(?:#[\w-]+)?\)", README)
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link


def current_text(page: Path) -> str:
    """The page, less the benchmark runs of docs/speed.md: they record the code as it was."""
    return page.read_text().split("<!-- runs, newest first -->")[0]


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            found = getattr(found, part)
        return found
    raise ImportError(dotted)


@pytest.mark.parametrize("page", [ROOT / "README.md", *PAGES], ids=lambda page: page.name)
def test_pages_name_only_modules_files_and_functions_that_exist(page):
    text = current_text(page)
    for dotted in sorted(set(re.findall(r"\b(imgsim(?:\.[A-Za-z_]\w*)+)", text))):
        resolve(dotted)  # raises if a rename left the page behind
    for path in set(re.findall(r"`((?:imgsim|tests|bench|scripts)/[\w/.-]*)", text)):
        assert (ROOT / path).exists(), path


def test_ci_runs_the_readme_test_command_verbatim():
    commands = [block.strip() for block in code_blocks("bash")]
    test_command = next(command for command in commands if "pytest" in command)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_keeps_exactly_two_setup_commands():
    setup = README.split("## Set up")[1].split("\n## ")[0]
    commands = [block.strip() for block in re.findall(r"```bash\n(.*?)```", setup, re.DOTALL)]
    assert commands == [
        "pip install -r requirements.txt && imgsim dashboard",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]


def test_readme_reports_the_accuracies_the_code_measures():
    """The table now lives on docs/classification.md; the README links to it."""
    import imgsim
    from imgsim import analyses as classify
    from imgsim import data as samples

    page = (DOCS / "classification.md").read_text()
    rows = re.findall(r"^\| (\d+) × \d+[^|]*\| (\d+)% \| (\d+)% \| (\d+)% \|$", page, re.M)
    assert len(rows) == 2
    files = samples.load_sample(samples.FACES)
    for side, ssim, mse, chance in rows:
        result = imgsim.compare(files, size=(int(side), int(side)))
        measured = classify.classify(result, classify.default_labels(result.names), k=1)
        assert round(100 * measured.loo["ssim"].accuracy) == int(ssim)
        assert round(100 * measured.loo["mse"].accuracy) == int(mse)
        assert round(100 * measured.loo["ssim"].baseline_accuracy) == int(chance)
