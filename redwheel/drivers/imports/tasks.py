from django_tasks import task

from redwheel.drivers.imports import services


@task()
def validate_import(job_id: int) -> str:
    return services.import_validate(job_id=job_id).status


@task()
def commit_import(job_id: int, actor_id: int | None = None) -> str:
    return services.import_commit(job_id=job_id, actor_id=actor_id).status
