//! PostgreSQL connectors with the settings of Confluent's JDBC connectors
//! (`io.confluent.connect.jdbc.JdbcSourceConnector`, `io.confluent.connect.jdbc.JdbcSinkConnector`),
//! on the `postgres` crate: `connection.url` (`jdbc:postgresql://host:port/db`, or a
//! `postgresql://` URL), `connection.user`, `connection.password`.
//!
//! - [`source`]: tables polled in `bulk`, `incrementing`, `timestamp` or
//!   `timestamp+incrementing` mode into `<topic.prefix><table>`;
//! - [`sink`]: records into tables — `insert` or `upsert`, `pk.mode`, `auto.create`,
//!   `auto.evolve`, in one transaction per batch.

pub mod sink;
pub mod source;

use crate::data::Config;
use crate::plugin::{ConfigKey, ConnectError};

/// The connection settings both connectors share.
const CONNECTION_KEYS: [ConfigKey; 3] = [
    ConfigKey {
        name: "connection.url",
        kind: "STRING",
        default: None,
        importance: "HIGH",
        documentation: "JDBC connection URL: jdbc:postgresql://host:port/database",
        recommended: &[],
    },
    ConfigKey {
        name: "connection.user",
        kind: "STRING",
        default: Some(""),
        importance: "HIGH",
        documentation: "JDBC connection user.",
        recommended: &[],
    },
    ConfigKey {
        name: "connection.password",
        kind: "PASSWORD",
        default: Some(""),
        importance: "HIGH",
        documentation: "JDBC connection password.",
        recommended: &[],
    },
];

/// The `postgres` configuration of `connection.url`, `connection.user` and
/// `connection.password` (the URL's own `user` / `password` parameters count too).
pub(crate) fn connection(config: &Config) -> Result<postgres::Config, String> {
    let url = config
        .get("connection.url")
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .ok_or("connection.url is required")?;
    let rest = url
        .strip_prefix("jdbc:postgresql://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or_else(|| {
            format!(
                "connection.url {url} is not a PostgreSQL URL (jdbc:postgresql://host:port/database): Brook Connect's JDBC connectors speak to PostgreSQL"
            )
        })?;
    let (location, params) = rest.split_once('?').unwrap_or((rest, ""));
    let (hosts, database) = location.split_once('/').unwrap_or((location, ""));
    let mut pg = postgres::Config::new();
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        let (host, port) = match host.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("connection.url: bad port in {url}"))?,
            ),
            None => (host, 5432),
        };
        pg.host(host).port(port);
    }
    if !database.is_empty() {
        pg.dbname(database);
    }
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("user", u)) => {
                pg.user(u);
            }
            Some(("password", p)) => {
                pg.password(p);
            }
            _ => {}
        }
    }
    if let Some(user) = config.get("connection.user").filter(|u| !u.is_empty()) {
        pg.user(user);
    }
    if let Some(password) = config.get("connection.password").filter(|p| !p.is_empty()) {
        pg.password(password);
    }
    pg.connect_timeout(std::time::Duration::from_secs(10));
    Ok(pg)
}

/// Connects, with the error a task shows.
pub(crate) fn connect(config: &Config) -> Result<postgres::Client, ConnectError> {
    let pg = connection(config).map_err(ConnectError::new)?;
    pg.connect(postgres::NoTls).map_err(|e| {
        ConnectError::new(format!(
            "cannot connect to {}: {e}",
            config.get("connection.url").cloned().unwrap_or_default()
        ))
    })
}

/// `"name"`, quoted for SQL.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name, quoted part by part (`schema.table`).
pub(crate) fn quote_table(name: &str) -> String {
    name.split('.').map(quote).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdbc_urls_become_postgres_configs() {
        let config: Config = [
            (
                "connection.url",
                "jdbc:postgresql://127.0.0.1:5433/rides?user=u1",
            ),
            ("connection.password", "secret"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let pg = connection(&config).unwrap();
        assert_eq!(pg.get_ports(), &[5433]);
        assert_eq!(pg.get_dbname(), Some("rides"));
        assert_eq!(pg.get_user(), Some("u1"));
        assert_eq!(pg.get_password(), Some(b"secret".as_slice()));
        let mysql: Config = [("connection.url", "jdbc:mysql://x/y")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(
            connection(&mysql)
                .unwrap_err()
                .contains("not a PostgreSQL URL")
        );
        assert_eq!(quote_table("public.my\"t"), "\"public\".\"my\"\"t\"");
    }
}
