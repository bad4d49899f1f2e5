//! Network namespaces for link-fault scenarios (issue 14.6): the calling
//! thread moves into a fresh, anonymous network namespace whose loopback is
//! up, so that the server it starts (children inherit the forking thread's
//! namespace) and the sockets it creates (a socket belongs to the namespace
//! of the thread that created it) live on a loopback of their own, and a
//! `tc` / `nft` it runs changes that loopback only.
//!
//! Why an anonymous namespace (`unshare(CLONE_NEWNET)` on one thread, see
//! unshare(2)) rather than a named one (`ip netns add`, a bind mount under
//! /run/netns): nothing has to be deleted afterwards. The kernel frees the
//! namespace when the last thread, process and socket in it are gone, so a
//! harness killed with SIGKILL leaves no namespace behind (its server tree is
//! killed by the supervisor, `process::supervise`), and two runs can never
//! collide on a name.
//!
//! Linux only; elsewhere [`enter_new`] reports `Unsupported`.

#[cfg(target_os = "linux")]
#[path = "netns/linux.rs"]
mod os;

#[cfg(not(target_os = "linux"))]
#[path = "netns/other.rs"]
mod os;

/// Move the calling thread (only it) into a new network namespace and bring
/// its loopback up. Needs CAP_SYS_ADMIN (root, or root of a user namespace).
/// On error the thread is where it was, or in a namespace whose loopback is
/// down: the caller must not use the thread for anything else either way.
pub fn enter_new() -> std::io::Result<()> {
    os::enter_new()
}

/// The network namespace the calling thread is in, as an identity that
/// differs between namespaces (Linux: the inode of /proc/thread-self/ns/net),
/// or `None` where there is no such thing.
pub fn current_id() -> Option<u64> {
    os::current_id()
}
