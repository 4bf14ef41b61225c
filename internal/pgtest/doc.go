// Package pgtest runs a throwaway PostgreSQL server for tests: a fresh
// data directory with wal_level=logical, a free loopback port, trust
// authentication, run as the postgres user when the tests run as root
// (PostgreSQL refuses to run as root), and stopped at the end of the test.
// The binaries come from Debian's postgresql package, which
// scripts/ensure-postgres.sh installs when it is missing and we are root.
package pgtest
