//! Linux: unshare(2) `CLONE_NEWNET` for the calling thread, then `lo` up
//! with the SIOCSIFFLAGS ioctl (netdevice(7)): no `ip` program needed.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

pub fn enter_new() -> io::Result<()> {
    // SAFETY: plain syscall; CLONE_NEWNET affects only the calling thread
    // (unlike CLONE_NEWUSER it is allowed in a multi-threaded process).
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    loopback_up()
}

fn loopback_up() -> io::Result<()> {
    // SAFETY: socket(2) with constant arguments; the fd is owned below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: both ioctls take a pointer to an ifreq that lives across them.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) < 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn current_id() -> Option<u64> {
    std::fs::metadata("/proc/thread-self/ns/net")
        .ok()
        .map(|m| m.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_namespace_is_another_namespace_with_its_own_loopback_up() {
        let outside = current_id().expect("Linux has /proc/thread-self/ns/net");
        let (id, listened) = std::thread::spawn(move || match enter_new() {
            // Not privileged here (CI without root): the error is EPERM,
            // and the thread stayed where it was.
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EPERM));
                (current_id(), None)
            }
            Ok(()) => {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let c = std::net::TcpStream::connect(l.local_addr().unwrap());
                (current_id(), Some(c.is_ok()))
            }
        })
        .join()
        .unwrap();
        match listened {
            None => assert_eq!(id, Some(outside)),
            Some(ok) => {
                assert_ne!(id, Some(outside), "the thread moved");
                assert!(ok, "loopback is up inside");
                assert_eq!(current_id(), Some(outside), "only that thread moved");
            }
        }
    }
}
