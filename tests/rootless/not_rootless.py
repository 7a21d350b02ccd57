"""The tests of the rootless lane (tests/rootless/run.sh) that cannot make sense as an
unprivileged user on this cgroup v1 host, each with the reason; docs/rootless.md
lists them.  A key is a test's node id, or its start (every parameter)."""

from __future__ import annotations

CGROUPS = ("cgroups: an unprivileged user may write no cgroup on a v1 host, so a rootless "
           "container has none (runc's rule: errors ignored)")
FREEZER = CGROUPS + "; pause needs the freezer"
HOST_PID = ("shares the host's pid namespace: /proc cannot be mounted from a user namespace "
            "that does not own the pid namespace (runc fails the same way)")
GROUPS = ("supplementary groups: runc refuses additionalGids for an unprivileged caller "
          "(\"cannot set any additional groups in a rootless container\"), as pyrunc does")
HOST_IDS = ("checks host-side ids of root or uid 1000, which the lane maps to the user and "
            "its subordinate ids")
FOREIGN_IDS = "the files belong to host ids that the user's namespace does not map"
KEYRING = ("the session keyring's owner and permissions as root expects them; in a user "
           "namespace both runtimes set others' search bit (test_keyring's userns test)")
IDMAP = ("an idmapped mount needs a user namespace made with the mount's maps, which an "
         "unprivileged caller cannot write (runc 1.1 has no idmapped mounts)")
LOCKED = ("recursive mount attributes over a bind of the host's tree: the mounts under it "
          "are locked for a user namespace (mount_setattr: EPERM)")
PRLIMIT = ("reads the container's limits with prlimit(2) from the test process, which lacks "
           "CAP_SYS_RESOURCE on this machine and is not the container's user")

RUNC_KILL = ("runc 1.1 as a user cannot signal a container without cgroups (\"lstat : no such "
             "file or directory\"); pyrunc finds its processes by its pid namespace")
SYSFS = ("the lane's rootless config binds the host's /sys instead of mounting sysfs, as "
         "runc's rootless spec does: the test is about the sysfs mount")

NEEDS_ROOT = {
    "tests/lifecycle/test_runc_cli.py::test_kill_signal_0_checks_a_running_container[runc]":
        RUNC_KILL,
    "tests/lifecycle/test_runc_cli.py::test_kill_numbers_go_to_the_kernel_names_are_checked"
    "[runc]": RUNC_KILL,
    "tests/security/test_no_mount_namespace.py::test_root_is_the_rootfs_without_a_mount_"
    "namespace[runc]": "runc 1.1 as a user fails it (\"mount /, flags: 0x84000: operation "
                       "not permitted\")",
    "tests/security/test_seccomp.py::test_filter_without_no_new_privs_is_loaded_at_start":
        HOST_IDS,
    "tests/mounts/test_mount_points.py::test_proc_and_sys_must_be_mounted_on_an_ordinary_"
    "directory[pyrunc-symlink-sysfs-/sys]": SYSFS,
    "tests/mounts/test_mount_points.py::test_proc_and_sys_must_be_mounted_on_an_ordinary_"
    "directory[pyrunc-file-sysfs-/sys]": SYSFS,
    "tests/mounts/test_mount_points.py::test_proc_and_sys_must_be_mounted_on_an_ordinary_"
    "directory[runc-symlink-sysfs-/sys]": SYSFS,
    "tests/mounts/test_mount_points.py::test_proc_and_sys_must_be_mounted_on_an_ordinary_"
    "directory[runc-file-sysfs-/sys]": SYSFS,
    "tests/mounts/test_userns_binds.py::": ("about root's runtime reaching bind sources below "
                                             "a directory only host root may enter (and a "
                                             "shared mount it makes): the user reaches "
                                             "neither"),
    "tests/lifecycle/test_lifecycle.py::test_delete_removes_cgroups": CGROUPS,
    "tests/lifecycle/test_lifecycle.py::test_delete_of_stopped_container_leaves_no_process"
    "[pyrunc-host]": HOST_PID,
    "tests/lifecycle/test_lifecycle.py::test_delete_of_stopped_container_leaves_no_process"
    "[runc-host]": HOST_PID,
    "tests/exec/test_exec_flags.py::test_joins_the_containers_cgroups": CGROUPS,
    "tests/exec/test_exec_flags.py::test_cgroup_flag_": CGROUPS,
    "tests/exec/test_exec_flags.py::test_user_and_additional_gids": GROUPS,
    "tests/exec/test_exec_flags.py::test_process_json": GROUPS,
    "tests/exec/test_exec_security.py::test_joining_process_is_not_dumpable": FREEZER,
    "tests/exec/test_foreground.py::test_exec_in_a_paused_container": FREEZER,
    "tests/exec/test_foreground.py::test_detached_exec_writes_to_fifos_it_was_given": HOST_IDS,
    "tests/exec/test_run_subreaper.py::": HOST_PID,
    "tests/security/test_bad_values.py::test_bad_value_fails_create_cleanly"
    "[user namespace without mappings]": "the lane's config always has the mappings",
    "tests/security/test_bad_values.py::test_bad_value_fails_create_cleanly"
    "[mappings without a user namespace]": "the lane's config always has a user namespace",
    "tests/security/test_exec_trampoline.py::test_waiting_init_is_not_dumpable":
        "an unprivileged caller's waiting init is dumpable, as runc's: the user's own "
        "`exec` must open its namespaces (docs/rootless.md)",
    "tests/security/test_keyring.py::test_container_gets_a_session_keyring_of_its_own": KEYRING,
    "tests/security/test_keyring.py::test_no_new_keyring_keeps_the_callers": KEYRING,
    "tests/security/test_keyring.py::test_exec_joins_the_containers_keyring": KEYRING,
    "tests/security/test_keyring.py::test_in_a_user_namespace_others_may_search[runc]":
        "runc 1.1 as a user fails it (\"fchown fd 7: operation not permitted\")",
    "tests/security/test_namespaces.py::test_user_inside_a_user_namespace": GROUPS,
    "tests/security/test_namespaces.py::test_several_ranges":
        "maps host ids outside the user's subordinate ranges",
    "tests/security/test_namespaces.py::test_rlimits_and_oom_score_adj_in_a_user_namespace":
        PRLIMIT,
    "tests/security/test_namespaces.py::test_exec_in_a_user_namespace_is_in_every_cgroup":
        CGROUPS,
    "tests/security/test_process_limits.py::test_every_rlimit_is_set": PRLIMIT,
    "tests/security/test_process_limits.py::test_rlimits_are_in_place_before_exec": PRLIMIT,
    "tests/security/test_process_limits.py::test_unlimited_rlimit": PRLIMIT,
    "tests/security/test_sysctl.py::test_namespaced_sysctls_are_set_inside_only":
        "net.* sysctls need a network namespace of the container's own, which runc's "
        "rootless config leaves out",
    "tests/security/test_sysctl.py::test_unisolated_sysctl_is_refused"
    "[user.max_user_namespaces":
        "with a user namespace of its own, user.* sysctls are the container's (allowed)",
    "tests/security/test_user.py::test_uid_gid_and_additional_gids_from_outside": GROUPS,
    "tests/security/test_user.py::test_uid_gid_and_groups_inside": GROUPS,
    "tests/security/test_user.py::test_root_without_additional_gids_has_no_groups": HOST_IDS,
    "tests/security/test_user.py::test_cwd_only_root_can_enter_works_for_a_user": FOREIGN_IDS,
    "tests/security/test_user.py::test_stdio_is_given_to_the_user": HOST_IDS,
    "tests/mounts/test_mount_extensions.py::test_rro_makes_the_whole_tree_read_only": LOCKED,
    "tests/mounts/test_mount_extensions.py::test_recursive_attributes_reach_submounts": LOCKED,
    "tests/mounts/test_mount_extensions.py::test_rrw_clears_read_only_on_submounts": LOCKED,
    "tests/mounts/test_mount_extensions.py::test_an_idmapped_mount": IDMAP,
    "tests/mounts/test_mount_extensions.py::test_idmap_": IDMAP,
    "tests/mounts/test_mount_extensions.py::test_impossible_idmapped_mounts": IDMAP,
    "tests/mounts/test_tmpcopyup.py::": FOREIGN_IDS + " (the image's files are chowned to 5 "
                                        "and 12 by the test)",
}


def reason(nodeid: str) -> str | None:
    for key, why in NEEDS_ROOT.items():
        if nodeid.startswith(key):
            return why
    return None
