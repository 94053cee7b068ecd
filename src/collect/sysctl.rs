//! Live sysctl values from /proc/sys, for the keys the knowledge base and the files name.
