//! sysctl configuration files: finds and loads them exactly as systemd-sysctl or procps does.
