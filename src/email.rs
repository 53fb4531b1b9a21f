//! Outgoing email: real SMTP when `TEND_SMTP_URL` is set, otherwise `.eml` files in the data
//! directory's `outbox/` so a demo works with no network. Emails are sent only by the job
//! queue (`jobs`), which retries failures.

use std::path::PathBuf;

use lettre::message::{
    Attachment as MailAttachment, Mailbox, Message, MultiPart, SinglePart, header::ContentType,
};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// An email to send. Bodies are plain text; Tend's emails never carry clinical content.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// A file to attach (a calendar invitation); absent in most emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A small text attachment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attachment {
    /// File name, e.g. `session.ics`.
    pub filename: String,
    /// MIME type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    /// The content.
    pub content: String,
}

impl Email {
    /// A plain-text email without attachments.
    pub fn text(to: &str, subject: &str, body: String) -> Email {
        Email {
            to: to.to_string(),
            subject: subject.to_string(),
            body,
            attachment: None,
        }
    }
}

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP server.
    Smtp {
        /// The transport (pooled connections).
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Sender.
        from: Mailbox,
    },
    /// Files in a folder, for offline demos and development.
    Outbox {
        /// The folder.
        dir: PathBuf,
        /// Sender.
        from: Mailbox,
    },
}

/// Failures to send; the job queue retries them.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// An address or the configuration is unusable.
    #[error("invalid email configuration or address: {0}")]
    Invalid(String),
    /// The SMTP server refused or could not be reached.
    #[error("smtp: {0}")]
    Smtp(String),
    /// Writing to the outbox failed.
    #[error("outbox: {0}")]
    Io(#[from] std::io::Error),
}

impl Mailer {
    /// Builds the mailer from configuration.
    pub fn from_config(
        smtp_url: Option<&str>,
        from: &str,
        data_dir: &std::path::Path,
    ) -> Result<Mailer, EmailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| EmailError::Invalid(format!("TEND_MAIL_FROM: {e}")))?;
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| EmailError::Invalid(format!("TEND_SMTP_URL: {e}")))?
                    .build();
                Ok(Mailer::Smtp { transport, from })
            }
            None => Ok(Mailer::Outbox {
                dir: data_dir.join("outbox"),
                from,
            }),
        }
    }

    /// Sends one email.
    pub async fn send(&self, email: &Email) -> Result<(), EmailError> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| EmailError::Invalid(format!("recipient: {e}")))?;
        let builder = Message::builder().from(from).to(to).subject(&email.subject);
        let message = match &email.attachment {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.body.clone()),
            Some(file) => {
                let content_type = ContentType::parse(&file.content_type)
                    .map_err(|e| EmailError::Invalid(format!("attachment type: {e}")))?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(email.body.clone()))
                        .singlepart(
                            MailAttachment::new(file.filename.clone())
                                .body(file.content.clone(), content_type),
                        ),
                )
            }
        }
        .map_err(|e| EmailError::Invalid(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport
                    .send(message)
                    .await
                    .map_err(|e| EmailError::Smtp(e.to_string()))?;
            }
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                let tmp = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&tmp, message.formatted()).await?;
                tokio::fs::rename(&tmp, dir.join(name)).await?;
            }
        }
        Ok(())
    }
}
