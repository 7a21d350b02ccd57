"""Typed model of the OCI runtime-spec v1.3.0 documents, for type hints only.

The runtime handles plain dicts from json.load; these TypedDicts describe them. Import this
module only for type checking, so it never costs anything at run time:

    from typing import TYPE_CHECKING
    if TYPE_CHECKING:
        from spec.model import Config

Field optionality follows spec/schema/*.schema.json (a test keeps the two in step). Keys
that are Python keywords ("class") use the functional TypedDict syntax. The other platforms'
sections (windows, solaris, vm, zos, freebsd) are left as plain mappings.
"""

from typing import Any, Literal, NotRequired, TypedDict

NamespaceType = Literal["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"]
HookName = Literal[
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"
]
SeccompAction = Literal[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
]
SeccompOperator = Literal[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
]
SeccompFlag = Literal[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
]
SchedulerPolicy = Literal[
    "SCHED_OTHER",
    "SCHED_FIFO",
    "SCHED_RR",
    "SCHED_BATCH",
    "SCHED_ISO",
    "SCHED_IDLE",
    "SCHED_DEADLINE",
]
IOPriorityClass = Literal["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"]
MemoryPolicyMode = Literal[
    "MPOL_DEFAULT",
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED",
    "MPOL_PREFERRED_MANY",
    "MPOL_LOCAL",
]
RootfsPropagation = Literal[
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"
]
ContainerStatus = Literal["creating", "created", "running", "stopped", "paused"]


# -- config.json: common -------------------------------------------------------------------


class Root(TypedDict):
    path: str
    readonly: NotRequired[bool]


class IDMapping(TypedDict):
    containerID: int
    hostID: int
    size: int


class Mount(TypedDict):
    destination: str
    source: NotRequired[str]
    options: NotRequired[list[str]]
    type: NotRequired[str]
    uidMappings: NotRequired[list[IDMapping]]
    gidMappings: NotRequired[list[IDMapping]]


class ConsoleSize(TypedDict):
    height: int
    width: int


class Rlimit(TypedDict):
    type: str
    soft: int
    hard: int


class User(TypedDict):
    """uid and gid are required on POSIX; a Windows user has only username."""

    uid: NotRequired[int]
    gid: NotRequired[int]
    umask: NotRequired[int]
    additionalGids: NotRequired[list[int]]
    username: NotRequired[str]


class Capabilities(TypedDict):
    effective: NotRequired[list[str]]
    bounding: NotRequired[list[str]]
    inheritable: NotRequired[list[str]]
    permitted: NotRequired[list[str]]
    ambient: NotRequired[list[str]]


class Scheduler(TypedDict):
    policy: SchedulerPolicy
    nice: NotRequired[int]
    priority: NotRequired[int]
    flags: NotRequired[list[str]]
    runtime: NotRequired[int]
    deadline: NotRequired[int]
    period: NotRequired[int]


IOPriority = TypedDict("IOPriority", {"class": IOPriorityClass, "priority": int})


class ExecCPUAffinity(TypedDict):
    initial: NotRequired[str]
    final: NotRequired[str]


class Process(TypedDict):
    """args is required (non-empty) unless commandLine is given (Windows)."""

    terminal: NotRequired[bool]
    consoleSize: NotRequired[ConsoleSize]
    cwd: str
    env: NotRequired[list[str]]
    args: NotRequired[list[str]]
    commandLine: NotRequired[str]
    rlimits: NotRequired[list[Rlimit]]
    user: NotRequired[User]
    apparmorProfile: NotRequired[str]
    capabilities: NotRequired[Capabilities]
    noNewPrivileges: NotRequired[bool]
    oomScoreAdj: NotRequired[int]
    scheduler: NotRequired[Scheduler]
    selinuxLabel: NotRequired[str]
    ioPriority: NotRequired[IOPriority]
    execCPUAffinity: NotRequired[ExecCPUAffinity]


class Hook(TypedDict):
    path: str
    args: NotRequired[list[str]]
    env: NotRequired[list[str]]
    timeout: NotRequired[int]


class Hooks(TypedDict):
    prestart: NotRequired[list[Hook]]
    createRuntime: NotRequired[list[Hook]]
    createContainer: NotRequired[list[Hook]]
    startContainer: NotRequired[list[Hook]]
    poststart: NotRequired[list[Hook]]
    poststop: NotRequired[list[Hook]]


# -- config.json: linux ---------------------------------------------------------------------


class Namespace(TypedDict):
    type: NamespaceType
    path: NotRequired[str]


class TimeOffset(TypedDict):
    secs: NotRequired[int]
    nanosecs: NotRequired[int]


class Device(TypedDict):
    """major and minor are required unless type is "p"."""

    type: Literal["c", "b", "u", "p"]
    path: str
    major: NotRequired[int]
    minor: NotRequired[int]
    fileMode: NotRequired[int]
    uid: NotRequired[int]
    gid: NotRequired[int]


class NetDevice(TypedDict):
    name: NotRequired[str]


class DeviceRule(TypedDict):
    allow: bool
    type: NotRequired[Literal["a", "c", "b"]]
    major: NotRequired[int]
    minor: NotRequired[int]
    access: NotRequired[str]


class Memory(TypedDict):
    limit: NotRequired[int]
    reservation: NotRequired[int]
    swap: NotRequired[int]
    kernel: NotRequired[int]
    kernelTCP: NotRequired[int]
    swappiness: NotRequired[int]
    disableOOMKiller: NotRequired[bool]
    useHierarchy: NotRequired[bool]
    checkBeforeUpdate: NotRequired[bool]


class CPU(TypedDict):
    shares: NotRequired[int]
    quota: NotRequired[int]
    burst: NotRequired[int]
    period: NotRequired[int]
    realtimeRuntime: NotRequired[int]
    realtimePeriod: NotRequired[int]
    cpus: NotRequired[str]
    mems: NotRequired[str]
    idle: NotRequired[int]


class WeightDevice(TypedDict):
    """At least one of weight and leafWeight is present."""

    major: int
    minor: int
    weight: NotRequired[int]
    leafWeight: NotRequired[int]


class ThrottleDevice(TypedDict):
    major: int
    minor: int
    rate: int


class BlockIO(TypedDict):
    weight: NotRequired[int]
    leafWeight: NotRequired[int]
    weightDevice: NotRequired[list[WeightDevice]]
    throttleReadBpsDevice: NotRequired[list[ThrottleDevice]]
    throttleWriteBpsDevice: NotRequired[list[ThrottleDevice]]
    throttleReadIOPSDevice: NotRequired[list[ThrottleDevice]]
    throttleWriteIOPSDevice: NotRequired[list[ThrottleDevice]]


class HugepageLimit(TypedDict):
    pageSize: str
    limit: int


class InterfacePriority(TypedDict):
    name: str
    priority: int


class Network(TypedDict):
    classID: NotRequired[int]
    priorities: NotRequired[list[InterfacePriority]]


class Pids(TypedDict):
    limit: NotRequired[int]


class RdmaLimit(TypedDict):
    """At least one of the two is present."""

    hcaHandles: NotRequired[int]
    hcaObjects: NotRequired[int]


class Resources(TypedDict):
    devices: NotRequired[list[DeviceRule]]
    memory: NotRequired[Memory]
    cpu: NotRequired[CPU]
    blockIO: NotRequired[BlockIO]
    hugepageLimits: NotRequired[list[HugepageLimit]]
    network: NotRequired[Network]
    pids: NotRequired[Pids]
    rdma: NotRequired[dict[str, RdmaLimit]]
    unified: NotRequired[dict[str, str]]


class IntelRdt(TypedDict):
    closID: NotRequired[str]
    l3CacheSchema: NotRequired[str]
    memBwSchema: NotRequired[str]
    schemata: NotRequired[list[str]]
    enableMonitoring: NotRequired[bool]


class MemoryPolicy(TypedDict):
    mode: MemoryPolicyMode
    nodes: NotRequired[str]
    flags: NotRequired[list[str]]


class SyscallArg(TypedDict):
    index: int
    value: int
    valueTwo: NotRequired[int]
    op: SeccompOperator


class Syscall(TypedDict):
    names: list[str]
    action: SeccompAction
    errnoRet: NotRequired[int]
    args: NotRequired[list[SyscallArg]]


class Seccomp(TypedDict):
    defaultAction: SeccompAction
    defaultErrnoRet: NotRequired[int]
    architectures: NotRequired[list[str]]
    flags: NotRequired[list[SeccompFlag]]
    listenerPath: NotRequired[str]
    listenerMetadata: NotRequired[str]
    syscalls: NotRequired[list[Syscall]]


class Personality(TypedDict):
    domain: Literal["LINUX", "LINUX32"]
    flags: NotRequired[list[str]]


class Linux(TypedDict):
    namespaces: NotRequired[list[Namespace]]
    uidMappings: NotRequired[list[IDMapping]]
    gidMappings: NotRequired[list[IDMapping]]
    timeOffsets: NotRequired[dict[str, TimeOffset]]
    devices: NotRequired[list[Device]]
    netDevices: NotRequired[dict[str, NetDevice]]
    cgroupsPath: NotRequired[str]
    resources: NotRequired[Resources]
    intelRdt: NotRequired[IntelRdt]
    memoryPolicy: NotRequired[MemoryPolicy]
    sysctl: NotRequired[dict[str, str]]
    seccomp: NotRequired[Seccomp]
    rootfsPropagation: NotRequired[RootfsPropagation]
    maskedPaths: NotRequired[list[str]]
    readonlyPaths: NotRequired[list[str]]
    mountLabel: NotRequired[str]
    personality: NotRequired[Personality]


class Config(TypedDict):
    """root is required except on Windows."""

    ociVersion: str
    root: NotRequired[Root]
    mounts: NotRequired[list[Mount]]
    process: NotRequired[Process]
    hostname: NotRequired[str]
    domainname: NotRequired[str]
    hooks: NotRequired[Hooks]
    annotations: NotRequired[dict[str, str]]
    linux: NotRequired[Linux]
    windows: NotRequired[dict[str, Any]]
    solaris: NotRequired[dict[str, Any]]
    vm: NotRequired[dict[str, Any]]
    zos: NotRequired[dict[str, Any]]
    freebsd: NotRequired[dict[str, Any]]


# -- state and features ---------------------------------------------------------------------


class State(TypedDict):
    """pid is required when status is created or running."""

    ociVersion: str
    id: str
    status: ContainerStatus
    pid: NotRequired[int]
    bundle: str
    annotations: NotRequired[dict[str, str]]


class Enabled(TypedDict):
    enabled: NotRequired[bool | None]


class CgroupFeatures(TypedDict):
    v1: NotRequired[bool | None]
    v2: NotRequired[bool | None]
    systemd: NotRequired[bool | None]
    systemdUser: NotRequired[bool | None]
    rdma: NotRequired[bool | None]


class SeccompFeatures(TypedDict):
    enabled: NotRequired[bool | None]
    actions: NotRequired[list[SeccompAction] | None]
    operators: NotRequired[list[SeccompOperator] | None]
    archs: NotRequired[list[str] | None]
    knownFlags: NotRequired[list[SeccompFlag] | None]
    supportedFlags: NotRequired[list[SeccompFlag] | None]


class MemoryPolicyFeatures(TypedDict):
    modes: NotRequired[list[MemoryPolicyMode] | None]
    flags: NotRequired[list[str] | None]


class IntelRdtFeatures(TypedDict):
    enabled: NotRequired[bool | None]
    schemata: NotRequired[bool | None]
    monitoring: NotRequired[bool | None]


class MountExtensions(TypedDict):
    idmap: NotRequired[Enabled | None]


class LinuxFeatures(TypedDict):
    namespaces: NotRequired[list[NamespaceType] | None]
    capabilities: NotRequired[list[str] | None]
    cgroup: NotRequired[CgroupFeatures | None]
    seccomp: NotRequired[SeccompFeatures | None]
    apparmor: NotRequired[Enabled | None]
    selinux: NotRequired[Enabled | None]
    memoryPolicy: NotRequired[MemoryPolicyFeatures | None]
    intelRdt: NotRequired[IntelRdtFeatures | None]
    mountExtensions: NotRequired[MountExtensions | None]
    netDevices: NotRequired[Enabled | None]


class Features(TypedDict):
    ociVersionMin: str
    ociVersionMax: str
    hooks: NotRequired[list[HookName] | None]
    mountOptions: NotRequired[list[str] | None]
    annotations: NotRequired[dict[str, str] | None]
    potentiallyUnsafeConfigAnnotations: NotRequired[list[str] | None]
    linux: NotRequired[LinuxFeatures | None]
