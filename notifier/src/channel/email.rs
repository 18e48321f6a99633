//! E-mail over SMTP (lettre). The subject is the title within its budget;
//! the body is the whole message, with the agency's original instruction.
//!
//! Loss: a 250 after DATA means the relay took responsibility; bounces come
//! later to the envelope sender and are not read here.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Mail};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Channel, Delivery, Outcome, SendFuture};
use crate::notice::{Address, ChannelKind, Secret};
use crate::render::Budgets;

const DEFAULT_RETRY: Duration = Duration::from_secs(60);

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on the same host or in tests.
    None,
    /// STARTTLS on the submission port (587).
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, Secret)>,
    /// `Hazardline <alerts@example.org>`.
    pub from: String,
    pub budgets: Budgets,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum EmailSetupError {
    #[error("sender address {0:?} does not parse")]
    From(String),
    #[error("SMTP relay {host}: {source}")]
    Relay {
        host: String,
        source: lettre::transport::smtp::Error,
    },
}

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    budgets: Budgets,
}

impl EmailChannel {
    pub fn new(config: EmailConfig) -> Result<Self, EmailSetupError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| EmailSetupError::From(config.from.clone()))?;
        let relay_error = |source| EmailSetupError::Relay {
            host: config.host.clone(),
            source,
        };
        let mut builder = match config.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(relay_error)?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(relay_error)?
            }
        };
        builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            budgets: config.budgets,
        })
    }

    async fn send_once(&self, delivery: &Delivery) -> Outcome {
        let Address::Email { to } = &delivery.address else {
            return Outcome::Rejected("not an e-mail address".into());
        };
        let Ok(to) = to.expose().parse::<Mailbox>() else {
            return Outcome::InvalidAddress;
        };
        let text = delivery.message.email(&self.budgets);
        let mail = Mail::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text.body);
        let mail = match mail {
            Ok(mail) => mail,
            Err(error) => return Outcome::Rejected(format!("building the mail: {error}")),
        };
        match self.transport.send(mail).await {
            Ok(_) => Outcome::Sent,
            Err(error) if error.is_permanent() => {
                // 550 / 551 / 553: no such mailbox or a malformed one.
                let code = error.status().map(|c| c.to_string()).unwrap_or_default();
                if code.starts_with("550") || code.starts_with("551") || code.starts_with("553") {
                    Outcome::InvalidAddress
                } else {
                    Outcome::Rejected(format!("SMTP {code}"))
                }
            }
            Err(error) => {
                tracing::warn!(transient = error.is_transient(), "smtp delivery failed");
                Outcome::Retry {
                    after: DEFAULT_RETRY,
                }
            }
        }
    }
}

impl Channel for EmailChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(self.send_once(delivery))
    }
}
