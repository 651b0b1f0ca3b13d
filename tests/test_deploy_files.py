"""The deployment registry builds every deployment; prefect.yaml matches it; the compose file
names real Dockerfiles."""

from pathlib import Path

import yaml

from clipflows.flows.runtime.deployments import DEPLOYMENTS, build_deployments

REPO = Path(__file__).resolve().parents[1]


def test_every_deployment_builds_with_its_schedule_and_parameters():
    built = {d.name: d for d in build_deployments()}
    assert set(built) == set(DEPLOYMENTS)
    for name, spec in DEPLOYMENTS.items():
        assert built[name].parameters == spec.parameters
        crons = [s.schedule.cron for s in built[name].schedules or []]
        assert crons == ([spec.cron] if spec.cron else []), name


def test_prefect_yaml_defines_the_registry_deployments_on_a_process_pool():
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    assert set(deployments) == set(DEPLOYMENTS)
    for name, spec in DEPLOYMENTS.items():
        deployment = deployments[name]
        assert deployment["entrypoint"] == spec.flow, name
        assert (deployment.get("parameters") or {}) == spec.parameters, name
        assert deployment["description"] == spec.description, name
        crons = [s["cron"] for s in deployment.get("schedules") or []]
        assert crons == ([spec.cron] if spec.cron else []), name
        assert deployment["work_pool"]["name"] == "clipflows", name


def test_compose_services_build_from_files_in_the_repository():
    compose = yaml.safe_load((REPO / "deploy/docker/compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "prefect-server", "worker", "vllm", "app"} <= set(services)
    for service in services.values():
        if "build" in service:
            context = (REPO / "deploy/docker" / service["build"]["context"]).resolve()
            assert context == REPO and (context / service["build"]["dockerfile"]).is_file()
    assert services["worker"]["environment"]["CLIPFLOWS_LLM__BASE_URL"] == "http://vllm:8000/v1"
