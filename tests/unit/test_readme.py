"""The README stays true: its Python runs, and CI runs its test command."""

from __future__ import annotations

import re

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_python_examples_run(capsys):
    blocks = code_blocks("python")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "['chelsea.png', 'coffee.png', 'rocket.jpg']" in capsys.readouterr().out


def test_ci_runs_the_readme_test_command_verbatim():
    commands = [block.strip() for block in code_blocks("bash")]
    test_command = next(command for command in commands if "pytest" in command)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_keeps_exactly_two_setup_commands():
    setup = README.split("## Set up")[1].split("\n## ")[0]
    commands = [block.strip() for block in re.findall(r"```bash\n(.*?)```", setup, re.DOTALL)]
    assert commands == [
        "pip install -r requirements.txt && streamlit run app.py",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]


def test_readme_reports_the_accuracies_the_code_measures():
    import imgsim
    from imgsim import analyses as classify
    from imgsim import data as samples

    rows = re.findall(r"^\| (\d+) × \d+[^|]*\| (\d+)% \| (\d+)% \| (\d+)% \|$", README, re.M)
    assert len(rows) == 2
    files = samples.load_sample(samples.FACES)
    for side, ssim, mse, chance in rows:
        result = imgsim.compare(files, size=(int(side), int(side)))
        measured = classify.classify(result, classify.default_labels(result.names), k=1)
        assert round(100 * measured.loo["ssim"].accuracy) == int(ssim)
        assert round(100 * measured.loo["mse"].accuracy) == int(mse)
        assert round(100 * measured.loo["ssim"].baseline_accuracy) == int(chance)
