"""Choosing a `tf.distribute.Strategy` for the training loop (one device, this machine's GPUs, or several
machines named by `TF_CONFIG`), and whether XLA can be used under it."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence

import tensorflow as tf

from lbie_tf.configs.choices import STRATEGIES
from lbie_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ClusterTask:
    """This process's place in a multi-worker cluster, read from `TF_CONFIG`.

    Attributes:
        task_type: "chief" or "worker".
        task_index: index within `task_type`.
        num_workers: tasks that train (chief included).
        chief_address: "host:port" of the chief (the first worker when there is no chief).
        has_chief: whether the cluster has a "chief" job (else worker 0 is the chief).
    """

    task_type: str
    task_index: int
    num_workers: int
    chief_address: str
    has_chief: bool

    @property
    def is_chief(self) -> bool:
        """Whether this task writes the run's checkpoints, summaries and reports."""
        return self.task_type == "chief" or (not self.has_chief and self.task_index == 0)


def read_tf_config(environ=os.environ) -> ClusterTask | None:
    """The cluster named by the `TF_CONFIG` environment variable, checked; None when it is unset or empty.

    Raises:
        ConfigError: TF_CONFIG is not JSON, lacks `cluster` or `task`, names a task type other than chief /
            worker, a task index outside its job, an address twice, or a malformed address.
    """
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({e.msg} at character {e.pos})") from None
    cluster, task = (config.get("cluster"), config.get("task")) if isinstance(config, dict) else (None, None)
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ConfigError('TF_CONFIG needs "cluster" and "task" objects, e.g. {"cluster": {"worker": '
                          '["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}')
    unknown = sorted(set(cluster) - {"chief", "worker", "evaluator"})
    if unknown:
        raise ConfigError(f"TF_CONFIG cluster has job(s) {unknown}: training uses chief and worker tasks only")
    jobs = {name: cluster.get(name, []) for name in ("chief", "worker")}
    if not all(isinstance(addresses, list) for addresses in jobs.values()) or len(jobs["chief"]) > 1:
        raise ConfigError("TF_CONFIG cluster jobs must be lists of host:port addresses, with at most one chief")
    addresses = jobs["chief"] + jobs["worker"]
    if not addresses:
        raise ConfigError("TF_CONFIG cluster names no chief and no worker")
    for address in addresses:
        host, _, port = str(address).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"TF_CONFIG address {address!r} is not host:port")
    repeated = sorted({a for a in addresses if addresses.count(a) > 1})
    if repeated:
        raise ConfigError(f"TF_CONFIG names {', '.join(repeated)} more than once: each task needs its own port")
    task_type, task_index = task.get("type"), task.get("index")
    if task_type not in jobs or not isinstance(task_index, int) or not 0 <= task_index < len(jobs[task_type]):
        raise ConfigError(f"TF_CONFIG task {task!r} is not one of the cluster's tasks "
                          f"({', '.join(f'{k} 0..{len(v) - 1}' for k, v in jobs.items() if v)})")
    return ClusterTask(task_type, task_index, len(addresses), addresses[0], bool(jobs["chief"]))


def select_strategy(name: str = "auto", devices: Sequence[str] | None = None,
                    cluster_timeout: float = 300.0) -> tf.distribute.Strategy:
    """Returns the distribution strategy named by `--strategy`.

    Create it before any other TensorFlow operation runs: `MultiWorkerMirroredStrategy` configures the
    collective ops of the process, which TensorFlow allows only at start-up.

    Args:
        name: one of
            "auto": `MultiWorkerMirroredStrategy` when `TF_CONFIG` names more than one worker, else
                `MirroredStrategy` over all visible GPUs when there are at least two,
                `OneDeviceStrategy("/gpu:0")` with one GPU, the default strategy otherwise;
            "default": `tf.distribute.get_strategy()` (no distribution, TensorFlow places ops);
            "one_device": `OneDeviceStrategy` on `devices[0]` if given, else the first GPU, else the CPU;
            "mirrored": `MirroredStrategy` over `devices` if given (e.g. `["/cpu:0", "/cpu:1"]` on logical
                CPU devices), else over all visible GPUs;
            "multi_worker": `MultiWorkerMirroredStrategy` over the cluster in `TF_CONFIG` (every GPU of each
                worker, or its CPU).
        devices: device names for "one_device" (exactly one) and "mirrored"; not accepted by the others.
        cluster_timeout: seconds a multi-worker task waits for the cluster to form, and for each collective
            operation, before the process stops with a one-line error (exit status 2).

    Raises:
        ConfigError: an unknown name, `devices` where they are not used, "mirrored" with neither GPUs
            nor devices, "multi_worker" without a valid `TF_CONFIG`.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"--strategy={name!r} is not one of {', '.join(STRATEGIES)}")
    if devices is not None and name not in ("one_device", "mirrored"):
        raise ConfigError(f"devices {list(devices)} are only used with --strategy=one_device or mirrored, "
                          f"not {name}")
    cluster = read_tf_config()
    if name == "multi_worker" or (name == "auto" and cluster is not None and cluster.num_workers > 1):
        if cluster is None:
            raise ConfigError("--strategy=multi_worker needs the TF_CONFIG environment variable naming the cluster "
                              "and this task (README, \"Several machines\")")
        return _multi_worker_strategy(cluster, cluster_timeout)
    gpus = [f"/gpu:{i}" for i in range(len(tf.config.list_logical_devices("GPU")))]
    if name == "auto":
        if len(gpus) >= 2:
            return tf.distribute.MirroredStrategy(gpus)
        if len(gpus) == 1:
            return tf.distribute.OneDeviceStrategy(gpus[0])
        return tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(_single_device(devices, gpus))
    return tf.distribute.MirroredStrategy(_mirrored_devices(devices, gpus))


def start_training(training, devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """What an entry point does before it builds anything: the strategy of `training.strategy` (first: a
    multi-worker strategy must exist before other TensorFlow operations run), op determinism
    (`training.deterministic`) and the float16 policy (`training.mixed_precision`).

    Args:
        training: the `TrainingConfig`.
        devices: `--devices` (see `select_strategy`).
    """
    strategy = select_strategy(training.strategy, devices, training.cluster_timeout)
    if training.deterministic:
        tf.config.experimental.enable_op_determinism()
    if training.mixed_precision:
        import keras

        keras.mixed_precision.set_global_policy("mixed_float16")
    return strategy


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files: always, except on the non-chief tasks of a cluster."""
    return strategy.extended.should_checkpoint


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` spans several processes (its input is built per worker)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._num_workers > 1


def _multi_worker_strategy(cluster: ClusterTask, timeout: float) -> tf.distribute.Strategy:
    """`MultiWorkerMirroredStrategy` for `cluster`, or a one-line `ConfigError` when the cluster does not form
    within `timeout` seconds (a task that cannot reach the others would otherwise wait for an hour).

    The coordination service is configured here, as the strategy would configure it, but with
    `cluster_register_timeout_in_ms` set (a private TensorFlow call: the public API has no such option).
    """
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    jobs = [coordination_config_pb2.CoordinatedJob(name=name, num_tasks=count)
            for name, count in (("chief", int(cluster.has_chief)),
                                ("worker", cluster.num_workers - int(cluster.has_chief))) if count]
    leader = "/job:chief/replica:0/task:0" if cluster.has_chief else "/job:worker/replica:0/task:0"
    context.context().configure_coordination_service(
        service_type="standalone", service_leader=leader, coordinated_jobs=jobs,
        cluster_register_timeout_in_ms=int(timeout * 1000))
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError, tf.errors.InternalError,
            tf.errors.UnknownError) as error:
        raise ConfigError(
            f"the multi-worker cluster did not form within --cluster_timeout={timeout:g} s "
            f"({cluster.task_type} {cluster.task_index} of {cluster.num_workers} tasks; chief at "
            f"{cluster.chief_address}; {type(error).__name__}): check TF_CONFIG and that every task is "
            f"started") from None


def jit_compile_supported(strategy: tf.distribute.Strategy) -> bool:
    """Whether `tf.function(jit_compile=True)` can run under `strategy`.

    False with more than one replica: an XLA cluster runs on exactly one device, and under MirroredStrategy
    the compiled step reaches for the other replicas' variables ("Trying to access resource ... located in
    device CPU:1 from device CPU:0"), see docs/tensorflow_notes.md, "XLA".
    """
    return strategy.num_replicas_in_sync == 1


def _single_device(devices: Sequence[str] | None, gpus: list[str]) -> str:
    """The device of a one-device strategy: the one given, else the first GPU, else the CPU."""
    if devices is None:
        return gpus[0] if gpus else "/cpu:0"
    if len(devices) != 1:
        raise ConfigError(f"--strategy=one_device takes exactly one device, got {list(devices)}")
    return devices[0]


def _mirrored_devices(devices: Sequence[str] | None, gpus: list[str]) -> list[str]:
    """The replicas of a mirrored strategy: the devices given, else all GPUs."""
    if devices is not None:
        if not devices:
            raise ConfigError("--strategy=mirrored was given an empty device list; name at least one device")
        return list(devices)
    if not gpus:
        raise ConfigError("--strategy=mirrored needs GPUs and this machine has none visible; use "
                          "--strategy=auto or default, or name devices (e.g. /cpu:0,/cpu:1)")
    return gpus
