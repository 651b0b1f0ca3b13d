"""The deployment registry builds every deployment; prefect.yaml is its rendering; every
deployment's parameters are valid for its flow; the compose file names real Dockerfiles, whose
images install what `make install` installs."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

from clipflows.components.settings import DEFAULT_CLIP
from clipflows.flows.runtime.deployments import (
    DEPLOYMENTS,
    TINY_ARCHITECTURE,
    build_deployments,
    load_flow,
    render_prefect_yaml,
)

REPO = Path(__file__).resolve().parents[1]
WORLD_DEPLOYMENTS = {"demo", "weekly-train-music-retrieval", "recommend-music"}


def _yaml_deployments() -> dict[str, dict]:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return {d["name"]: d for d in config["deployments"]}


def _parameter_sets() -> list[tuple[str, str, object, dict]]:
    """(source, name, flow, parameters) for every deployment in the registry and prefect.yaml,
    each flow loaded as that source's runner loads it."""
    registry = [
        ("registry", name, load_flow(spec.flow), spec.parameters)
        for name, spec in DEPLOYMENTS.items()
    ]
    from_yaml = [
        (
            "prefect.yaml",
            name,
            load_flow_from_entrypoint(d["entrypoint"]),
            d.get("parameters") or {},
        )
        for name, d in _yaml_deployments().items()
    ]
    return registry + from_yaml


def test_every_deployments_parameters_are_valid_for_its_flows_signature(monkeypatch):
    monkeypatch.delenv("CLIPFLOWS_CLIP", raising=False)  # a worker's settings: the default CLIP
    invalid, clips = {}, {}
    for source, name, flow, parameters in _parameter_sets():
        try:  # what Prefect does before a run: one error naming each bad parameter
            validated = flow.validate_parameters(parameters)
        except Exception as error:  # noqa: BLE001 - every failure is listed, not just the first
            invalid[f"{source}: {name}"] = str(error)
            continue
        if "settings" in flow.parameters.properties:
            settings = validated.get("settings")
            clips[name] = settings.clip if settings is not None else DEFAULT_CLIP
    assert invalid == {}
    # World data names the world CLIP; a user's images get the default.
    assert {name for name, clip in clips.items() if clip == "world"} == WORLD_DEPLOYMENTS


def test_train_clip_deploys_what_the_command_trains_without_init():
    from clipflows.components.world.recipe import TINY_ARCHITECTURE as COMMAND_DEFAULT

    assert TINY_ARCHITECTURE == COMMAND_DEFAULT
    assert DEPLOYMENTS["train-clip"].parameters["config"] == {"architecture": COMMAND_DEFAULT}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_a_wrong_parameter_is_refused_by_the_same_validation(name):
    flow = load_flow(DEPLOYMENTS[name].flow)
    with pytest.raises(Exception, match="not_a_parameter|unexpected keyword"):
        flow.validate_parameters({**DEPLOYMENTS[name].parameters, "not_a_parameter": 1})


def test_every_deployment_builds_with_its_schedule_and_parameters():
    built = {d.name: d for d in build_deployments()}
    assert set(built) == set(DEPLOYMENTS)
    for name, spec in DEPLOYMENTS.items():
        assert built[name].parameters == spec.parameters
        crons = [s.schedule.cron for s in built[name].schedules or []]
        assert crons == ([spec.cron] if spec.cron else []), name


def test_prefect_yaml_defines_the_registry_deployments_on_a_process_pool():
    deployments = _yaml_deployments()
    assert set(deployments) == set(DEPLOYMENTS)
    for name, spec in DEPLOYMENTS.items():
        deployment = deployments[name]
        assert deployment["entrypoint"] == spec.flow, name
        assert (deployment.get("parameters") or {}) == spec.parameters, name
        assert deployment["description"] == spec.description, name
        crons = [s["cron"] for s in deployment.get("schedules") or []]
        assert crons == ([spec.cron] if spec.cron else []), name
        assert deployment["work_pool"]["name"] == "clipflows", name


def test_prefect_yaml_is_the_registry_rendered():
    assert (REPO / "prefect.yaml").read_text() == render_prefect_yaml(), (
        "prefect.yaml is stale: run python -m clipflows.flows.runtime.deployments"
    )


def test_the_rendering_follows_a_change_to_the_registry():
    changed = dict(DEPLOYMENTS)
    changed["demo"] = DEPLOYMENTS["demo"].model_copy(update={"cron": "15 4 * * *"})
    changed["extra"] = DEPLOYMENTS["separate"].model_copy(update={"note": "a second one"})
    config = yaml.safe_load(render_prefect_yaml(changed))
    deployments = {d["name"]: d for d in config["deployments"]}
    assert deployments["demo"]["schedules"] == [{"cron": "15 4 * * *"}]
    assert deployments["extra"]["parameters"] == DEPLOYMENTS["separate"].parameters
    assert deployments["extra"]["work_pool"] == config["definitions"]["work_pool"]
    assert "  # a second one\n  - name: extra\n" in render_prefect_yaml(changed)


def test_the_command_writes_prefect_yaml_and_check_finds_a_stale_one(tmp_path):
    command = [sys.executable, "-m", "clipflows.flows.runtime.deployments"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    assert run("--check").returncode == 1  # no prefect.yaml here yet
    written = run()
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "prefect.yaml").read_text() == (REPO / "prefect.yaml").read_text()
    assert run("--check").returncode == 0
    stale = tmp_path / "stale.yaml"
    stale.write_text(render_prefect_yaml().replace('"0 2 * * *"', '"0 3 * * *"'))
    checked = run("--check", str(stale))
    assert checked.returncode == 1 and "python -m clipflows" in checked.stderr


def test_compose_services_build_from_files_in_the_repository():
    compose = yaml.safe_load((REPO / "deploy/docker/compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "prefect-server", "worker", "vllm", "app"} <= set(services)
    for service in services.values():
        if "build" in service:
            context = (REPO / "deploy/docker" / service["build"]["context"]).resolve()
            assert context == REPO and (context / service["build"]["dockerfile"]).is_file()
    assert services["worker"]["environment"]["CLIPFLOWS_LLM__BASE_URL"] == "http://vllm:8000/v1"


def _runs(dockerfile: Path) -> str:
    """A Dockerfile's RUN instructions, continuation lines joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    return "\n".join(line for line in text.splitlines() if line.startswith("RUN "))


def test_the_images_install_through_the_install_script_make_install_calls():
    worker, app = (REPO / "deploy/docker" / f"Dockerfile.{n}" for n in ("worker", "app"))
    assert "deploy/install.sh python" in _runs(worker)
    assert "FROM clipflows-worker" in app.read_text()  # the same packages, another command
    for dockerfile in (worker, app):
        assert "pip install" not in _runs(dockerfile), dockerfile.name  # no list of their own


def test_make_install_calls_the_install_script_the_images_call():
    makefile = (REPO / "Makefile").read_text()
    assert "deploy/install.sh $(PY)" in makefile
    assert "pip install" not in makefile  # every package comes from the one script
