//! Ingest: text people paste (netstat -s, nstat, sysctl -a, ss, snapshot JSON) into Snapshots.
