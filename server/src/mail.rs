//! Email over SMTP (lettre), when `TOLLGATE_SMTP_URL` is set: invites, and budget alerts
//! (`alerts.rs`). The server functions see only `app::context::Mailer`; this is its one
//! implementation.

use crate::config::Config;
use crate::startup_error::StartupError;
use app::context::{InviteMail, Mailer, SendResult};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long an invite waits for the mail server before the inviter is shown the link instead.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends invite emails through one SMTP server, over pooled connections.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: never print it.
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// The mailer the configuration asks for; `None` when no mail server is set.
    ///
    /// # Errors
    /// [`StartupError::Mail`] when the URL or the From address cannot be used.
    pub fn from_config(config: &Config) -> Result<Option<Self>, StartupError> {
        let Some(url) = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(|e| StartupError::Mail(format!("TOLLGATE_SMTP_URL: {e}")))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = config
            .smtp_from()
            .parse::<Mailbox>()
            .map_err(|e| StartupError::Mail(format!("TOLLGATE_SMTP_FROM: {e}")))?;
        Ok(Some(Self { transport, from }))
    }

    async fn send(&self, mail: &InviteMail) -> SendResult {
        let subject = format!("{} invited you to Tollgate", mail.inviter);
        let sent = self
            .send_text(std::slice::from_ref(&mail.to), &subject, invite_text(mail))
            .await;
        match &sent {
            Ok(()) => tracing::info!(to = %mail.to, "invite emailed"),
            Err(e) => tracing::warn!(to = %mail.to, error = %e, "invite email failed"),
        }
        sent
    }

    /// Sends one plain-text message to every address in `to`; the error is a reason for people.
    pub async fn send_text(&self, to: &[String], subject: &str, body: String) -> SendResult {
        let mut message = Message::builder().from(self.from.clone());
        for address in to {
            let mailbox = address
                .parse::<Mailbox>()
                .map_err(|_| "the mail server cannot take this address".to_owned())?;
            message = message.to(mailbox);
        }
        let message = message
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("the email could not be put together: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            tracing::debug!(error = %e, "mail server answer");
            if e.is_permanent() || e.is_transient() {
                "the mail server refused it".to_owned()
            } else {
                "the mail server could not be reached".to_owned()
            }
        })
    }
}

impl Mailer for SmtpMailer {
    fn send_invite<'a>(
        &'a self,
        mail: &'a InviteMail,
    ) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'a>> {
        Box::pin(self.send(mail))
    }
}

/// The invite email's text.
fn invite_text(mail: &InviteMail) -> String {
    format!(
        "{inviter} invited you to the Tollgate AI gateway at {gateway} as {role}.\n\n\
         Accept the invite, choose your display name and a password:\n{link}\n\n\
         The link works once, for 7 days. If you did not expect this email, ignore it.\n",
        inviter = mail.inviter,
        gateway = mail.gateway,
        role = mail.role.label(),
        link = mail.link,
    )
}

#[cfg(test)]
mod tests {
    use super::invite_text;
    use app::context::InviteMail;
    use domain::Role;

    #[test]
    fn the_text_names_inviter_gateway_role_and_link() {
        let text = invite_text(&InviteMail {
            to: "b@example.com".into(),
            inviter: "Ada".into(),
            role: Role::Member,
            gateway: "https://gw.example.com".into(),
            link: "https://gw.example.com/invite/abc".into(),
        });
        assert!(text.starts_with(
            "Ada invited you to the Tollgate AI gateway at https://gw.example.com as Member."
        ));
        assert!(text.contains("\nhttps://gw.example.com/invite/abc\n"));
    }
}
