//! pgbouncer for the pooler test (`cargo xtask test`) and the scale-out benchmark: one
//! ≥ 1.21 on the PATH, else Debian 13's 1.24.1 built from the Debian archive's source
//! (Debian 12 packages 1.18, which cannot keep prepared statements in transaction
//! pooling); then a transaction-pooling instance of it in front of the test PostgreSQL.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Running, free_port, install_packages};
use crate::{run, target_dir};

const VERSION: &str = "1.24.1";
const SOURCE: &str =
    "http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_1.24.1.orig.tar.gz";
/// As listed in Debian 13's `Sources` for `pgbouncer 1.24.1-1+deb13u2`.
const SOURCE_SHA256: &str = "da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0";
/// The first version that keeps protocol-level prepared statements in transaction mode.
const KEEPS_PREPARED_STATEMENTS: (u32, u32) = (1, 21);
/// Prepared statements pgbouncer keeps per server connection (sqlx caches 100 per
/// client connection).
const MAX_PREPARED_STATEMENTS: usize = 400;

/// A `pgbouncer` binary that keeps prepared statements in transaction mode: the PATH's
/// or Debian's (`/usr/sbin`, often not on a user's PATH) if new enough, else one built
/// here from Debian 13's source.
pub(crate) fn ensure() -> anyhow::Result<PathBuf> {
    for installed in ["pgbouncer", "/usr/sbin/pgbouncer"] {
        if version_of(Path::new(installed)).is_some_and(|v| v >= KEEPS_PREPARED_STATEMENTS) {
            return Ok(PathBuf::from(installed));
        }
    }
    let dir = target_dir().join(format!("pgbouncer-{VERSION}"));
    let binary = dir.join("pgbouncer");
    if version_of(&binary).is_some() {
        return Ok(binary);
    }
    eprintln!(
        "xtask: building pgbouncer {VERSION} from Debian's source (none >= 1.21 installed; \
         or set TRICKLE_TEST_PGBOUNCER_URL to a running one)"
    );
    install_packages(&[
        "libevent-dev",
        "libssl-dev",
        "pkg-config",
        "make",
        "gcc",
        "curl",
    ])
    .context("installing what building pgbouncer needs (Debian's apt-get, as root)")?;
    let tarball = target_dir().join(format!("pgbouncer_{VERSION}.orig.tar.gz"));
    let mut download = Command::new("curl");
    download.args(["-fsSL", "-o"]).arg(&tarball).arg(SOURCE);
    run(download)?;
    let digest = Sha256::digest(std::fs::read(&tarball)?);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex != SOURCE_SHA256 {
        bail!("{SOURCE} has SHA-256 {hex}, not Debian's {SOURCE_SHA256}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut unpack = Command::new("tar");
    unpack
        .args(["--no-same-owner", "-xzf"])
        .arg(&tarball)
        .arg("-C")
        .arg(target_dir());
    run(unpack)?;
    let mut configure = Command::new(dir.join("configure"));
    configure
        .args(["--without-cares", "--without-systemd"])
        .current_dir(&dir)
        .stdout(Stdio::null());
    run(configure)?;
    let mut make = Command::new("make");
    make.current_dir(&dir).stdout(Stdio::null());
    run(make)?;
    version_of(&binary).context("the built pgbouncer does not run")?;
    Ok(binary)
}

/// `pgbouncer --version`'s major and minor, if it runs.
fn version_of(binary: &Path) -> Option<(u32, u32)> {
    let output = Command::new(binary).arg("--version").output().ok()?;
    let printed = String::from_utf8_lossy(&output.stdout);
    let version = printed.lines().next()?.strip_prefix("PgBouncer ")?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

fn running_as_root() -> anyhow::Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .context("running id")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A running pgbouncer in transaction pooling mode, stopped when dropped.
pub(crate) struct Pooler {
    _process: Running,
    port: u16,
    /// What clients log in with (SCRAM against the password in its `auth_file`): only
    /// this process's clients, not every local user, reach the server through it.
    user: String,
    password: String,
}

impl Pooler {
    /// Starts `binary` on a free port in front of the PostgreSQL server of `server_url`
    /// (`postgres://user[:password]@host[:port]/…`), every database passed through and
    /// at most `server_connections` server connections per database; its configuration
    /// and log in `work`.
    pub(crate) fn start(
        binary: &Path,
        server_url: &str,
        server_connections: usize,
        work: &Path,
    ) -> anyhow::Result<Pooler> {
        std::fs::create_dir_all(work)?;
        let server = url::Url::parse(server_url).with_context(|| format!("{server_url:?}"))?;
        let user = percent_decoded(server.username())?;
        if user.is_empty() {
            bail!("{server_url:?} names no user, which pgbouncer needs");
        }
        let host = server.host_str().context("the server URL names no host")?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_password = match server.password() {
            Some(password) => format!(
                " password='{}'",
                percent_decoded(password)?.replace('\'', "''")
            ),
            None => String::new(),
        };
        let password = random_hex(16)?;
        let port = free_port()?;
        let users = work.join("pgbouncer-users.txt");
        write_private(&users, &format!("\"{user}\" \"{password}\"\n"))?;
        let config = work.join("pgbouncer.ini");
        write_private(
            &config,
            &format!(
                "[databases]\n\
                 * = host={host} port={server_port} user={user}{server_password}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 max_prepared_statements = {MAX_PREPARED_STATEMENTS}\n\
                 default_pool_size = {server_connections}\n\
                 max_client_conn = 1000\n\
                 ignore_startup_parameters = extra_float_digits\n\
                 log_connections = 0\n\
                 log_disconnections = 0\n",
                server_port = server.port().unwrap_or(5432),
                users = users.display(),
            ),
        )?;
        let log = work.join("pgbouncer.log");
        let mut command = Command::new(binary);
        if running_as_root()? {
            // pgbouncer refuses to run as root; it reads its configuration and users
            // file first, then switches, and logs to the stderr opened here.
            command.args(["-u", "nobody"]);
        }
        let mut process = Running::new(
            command
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .context("starting pgbouncer")?,
        );
        process.wait_for_port(port, Duration::from_secs(10), &log)?;
        Ok(Pooler {
            _process: process,
            port,
            user,
            password,
        })
    }

    /// The URL of `database` through this pooler.
    pub(crate) fn url(&self, database: &str) -> String {
        let mut url = url::Url::parse("postgres://127.0.0.1/").expect("a valid URL");
        let _ = url.set_username(&self.user);
        let _ = url.set_password(Some(&self.password));
        let _ = url.set_port(Some(self.port));
        url.set_path(database);
        url.to_string()
    }
}

/// A URL's user or password with its `%XX` escapes decoded.
fn percent_decoded(text: &str) -> anyhow::Result<String> {
    Ok(percent_encoding::percent_decode_str(text)
        .decode_utf8()?
        .into_owned())
}

/// `bytes` random bytes as hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut random = vec![0; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a file only its owner can read (it may hold a password).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())?;
    Ok(())
}
