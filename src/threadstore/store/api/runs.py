"""Agentomatic 1.16's run history, written once: invocation logs, log analyses, optimization runs.

Argument names, defaults and record keys are Agentomatic's (a superset: runs
also take ``user_id``, token counts and ``cost``). Unlike Agentomatic, a
duplicate id is a :class:`~threadstore.errors.DuplicateRecordError` on every
backend, and listings break timestamp ties by id (descending).
"""

from __future__ import annotations

from typing import Any

from threadstore.records import InvocationLogRecord, LogAnalysisRecord, OptimizationRunRecord
from threadstore.store import run_inputs
from threadstore.store.core import StoreCore
from threadstore.store.run_inputs import AnalysisInput, InvocationInput, LogFilter
from threadstore.validation import check_id, check_limit, check_optional_id

__all__ = ["RunMethods"]


class RunMethods(StoreCore):
    """Runs of agents (invocation logs), analyses of them and optimization runs."""

    async def create_invocation_log(
        self,
        *,
        agent_name: str,
        resource_type: str = "agent",
        thread_id: str | None = None,
        run_id: str | None = None,
        endpoint: str = "invoke",
        input_data: dict[str, Any] | None = None,
        output_data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        error: str | None = None,
        duration_ms: float | None = None,
        status: str = "ok",
        log_id: str | None = None,
        user_id: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost: float | None = None,
    ) -> InvocationLogRecord:
        """Store one run of a resource (agent, plugin, pipeline, ...); return it.

        The thread need not exist. The run belongs to the thread's owner when
        it does (else to ``user_id``, None: nobody's); through a ``for_user``
        view it is the view's user's and ``thread_id`` must be one of theirs.
        A missing ``log_id`` gets a new ``invlog_...`` id.

        Raises:
            DuplicateRecordError: ``log_id`` exists.
            ValidationError: e.g. a status outside ok/error/suspended/running/cancelled,
                negative tokens, cost or duration, or a ``user_id`` that does not
                own the thread.
            ThreadNotFoundError: through a view, the thread is not the user's.
        """
        args = InvocationInput.check(
            agent_name=agent_name,
            resource_type=resource_type,
            thread_id=thread_id,
            run_id=run_id,
            endpoint=endpoint,
            input_data=input_data,
            output_data=output_data,
            metadata=metadata,
            error=error,
            duration_ms=duration_ms,
            status=status,
            log_id=log_id,
            user_id=user_id,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
        )
        async with self.unit(write=True) as unit:
            thread = None if args.thread_id is None else await unit.threads.get(args.thread_id)
            owner = run_inputs.record_owner(unit.owner, thread, args.thread_id, args.user_id)
            return await unit.runs.create_log(args, owner)

    async def get_invocation_log(self, log_id: str) -> InvocationLogRecord | None:
        """Return the run, or None."""
        check_id("log_id", log_id)
        async with self.unit(write=False) as unit:
            return await unit.runs.get_log(log_id)

    async def list_invocation_logs(
        self,
        *,
        agent_name: str | None = None,
        resource_type: str | None = None,
        thread_id: str | None = None,
        status: str | None = None,
        endpoint: str | None = None,
        limit: int = 50,
        offset: int = 0,
        user_id: str | None = None,
    ) -> list[InvocationLogRecord]:
        """List runs newest first (ties by id descending), filtered by any of the fields."""
        where = LogFilter.check(
            agent_name=agent_name,
            resource_type=resource_type,
            thread_id=thread_id,
            status=status,
            endpoint=endpoint,
            user_id=user_id,
        )
        limit, offset = check_limit("limit", limit), check_limit("offset", offset)
        async with self.unit(write=False) as unit:
            return await unit.runs.find_logs(where, limit, offset)

    async def count_invocation_logs(
        self,
        *,
        agent_name: str | None = None,
        resource_type: str | None = None,
        thread_id: str | None = None,
        status: str | None = None,
        endpoint: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """Count the runs :meth:`list_invocation_logs` would list without a page."""
        where = LogFilter.check(
            agent_name=agent_name,
            resource_type=resource_type,
            thread_id=thread_id,
            status=status,
            endpoint=endpoint,
            user_id=user_id,
        )
        async with self.unit(write=False) as unit:
            return await unit.runs.count_logs(where)

    async def save_log_analysis(
        self,
        *,
        agent_name: str,
        resource_type: str = "agent",
        score: float | None,
        summary: str,
        status: str,
        recommendations: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        analysis_id: str | None = None,
    ) -> LogAnalysisRecord:
        """Store an analysis of a resource's runs; return it.

        Analyses are per agent, not per user: a ``for_user`` view cannot save one.

        Raises:
            DuplicateRecordError: ``analysis_id`` exists.
            PermissionDeniedError: called through a ``for_user`` view.
            ValidationError: e.g. a non-finite score or non-string recommendations.
        """
        args = AnalysisInput.check(
            agent_name=agent_name,
            resource_type=resource_type,
            score=score,
            summary=summary,
            status=status,
            recommendations=recommendations,
            metadata=metadata,
            analysis_id=analysis_id,
        )
        async with self.unit(write=True) as unit:
            return await unit.runs.save_analysis(args)

    async def get_latest_log_analysis(
        self, agent_name: str, *, resource_type: str = "agent"
    ) -> LogAnalysisRecord | None:
        """Return the newest analysis of the resource, or None (always None in a view)."""
        agent = check_id("agent_name", agent_name)
        kind = run_inputs.resource_type(resource_type)
        async with self.unit(write=False) as unit:
            newest = await unit.runs.find_analyses(agent, kind, 1, 0)
        return newest[0] if newest else None

    async def list_log_analyses(
        self,
        *,
        agent_name: str | None = None,
        resource_type: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[LogAnalysisRecord]:
        """List analyses newest first (ties by id descending; ``[]`` in a view)."""
        check_optional_id("agent_name", agent_name)
        check_optional_id("resource_type", resource_type)
        limit, offset = check_limit("limit", limit), check_limit("offset", offset)
        async with self.unit(write=False) as unit:
            return await unit.runs.find_analyses(agent_name, resource_type, limit, offset)

    async def create_optimization_run(
        self,
        *,
        experiment_id: str,
        agent_name: str,
        baseline_score: float | None = None,
        best_score: float | None = None,
        prompt_versions: dict[str, Any] | None = None,
        score_history: list[Any] | None = None,
        learnings: list[Any] | None = None,
        artefacts: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> OptimizationRunRecord:
        """Store an auditable optimization (retrain) run; return it.

        Per agent, not per user: a ``for_user`` view cannot create one.

        Raises:
            DuplicateRecordError: ``run_id`` exists.
            PermissionDeniedError: called through a ``for_user`` view.
            ValidationError: e.g. a non-finite score or non-JSON artefacts.
        """
        args = run_inputs.OptimizationInput.check(
            experiment_id=experiment_id,
            agent_name=agent_name,
            baseline_score=baseline_score,
            best_score=best_score,
            prompt_versions=prompt_versions,
            score_history=score_history,
            learnings=learnings,
            artefacts=artefacts,
            metadata=metadata,
            run_id=run_id,
        )
        async with self.unit(write=True) as unit:
            return await unit.runs.create_optimization(args)

    async def get_optimization_run(self, run_id: str) -> OptimizationRunRecord | None:
        """Return the optimization run, or None (always None in a view)."""
        check_id("run_id", run_id)
        async with self.unit(write=False) as unit:
            return await unit.runs.get_optimization(run_id)

    async def list_optimization_runs(
        self,
        *,
        agent_name: str | None = None,
        experiment_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[OptimizationRunRecord]:
        """List optimization runs newest first (ties by id descending; ``[]`` in a view)."""
        check_optional_id("agent_name", agent_name)
        check_optional_id("experiment_id", experiment_id)
        limit, offset = check_limit("limit", limit), check_limit("offset", offset)
        async with self.unit(write=False) as unit:
            return await unit.runs.find_optimizations(agent_name, experiment_id, limit, offset)
