//! Socket state over NETLINK_SOCK_DIAG (inet_diag), with /proc/net/tcp as the fallback.
