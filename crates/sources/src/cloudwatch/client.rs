//! The calls logsleuth makes to CloudWatch Logs, through the official SDK: its credential
//! chain, SigV4 signing and retries. Errors become [`SourceError`]s in the service's words;
//! credentials never appear in them (the SDK does not put them in errors).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatchlogs as cwl;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};

use crate::http::RetryPolicy;
use crate::{SourceError, SourceResult};

/// Where and how to reach CloudWatch Logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// AWS region (else the chain's: `AWS_REGION`, the profile's).
    pub region: Option<String>,
    /// Shared-config profile (else `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// Endpoint URL (a VPC endpoint, a local emulator such as moto); the region's when `None`.
    pub endpoint: Option<String>,
}

/// One event as `FilterLogEvents` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the epoch.
    pub ts_ms: i64,
    /// Index of the log group among the source's groups.
    pub group: usize,
    /// The log stream.
    pub stream: Arc<str>,
    /// `eventId` (unique within the group).
    pub id: String,
    /// The message.
    pub message: String,
}

/// Builds the SDK client. Retries: the SDK's standard mode (throttling and transient errors,
/// with jittered exponential backoff) with the attempts of the one [`RetryPolicy`] every
/// server source uses.
pub async fn connect(endpoint: &Endpoint) -> SourceResult<cwl::Client> {
    connect_counting(endpoint, Throttled::default()).await
}

/// How many answers of a client were throttling (`ThrottlingException`,
/// `LimitExceededException`, HTTP 429): the SDK retries them with backoff, and the source
/// says so in what it answers.
#[derive(Debug, Clone, Default)]
pub struct Throttled(Arc<AtomicU64>);

impl Throttled {
    /// Throttled answers so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether an answer is the service throttling: its status, `x-amzn-ErrorType` header or the
/// JSON error's `__type`.
fn is_throttling(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    const CODES: [&str; 4] = ["ThrottlingException", "LimitExceededException", "TooManyRequestsException", "RequestLimitExceeded"];
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let named = |text: &str| CODES.iter().any(|c| text.contains(c));
    error_type.is_some_and(named) || body.and_then(|b| std::str::from_utf8(&b[..b.len().min(512)]).ok()).is_some_and(named)
}

/// Counts the throttling answers of every attempt.
#[derive(Debug)]
struct CountThrottling(Throttled);

impl cwl::config::Intercept for CountThrottling {
    fn name(&self) -> &'static str {
        "logsleuth::CountThrottling"
    }

    fn read_after_attempt(
        &self,
        context: &cwl::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &cwl::config::RuntimeComponents,
        _cfg: &mut cwl::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(r) = context.response()
            && is_throttling(r.status().as_u16(), r.headers().get("x-amzn-errortype"), r.body().bytes())
        {
            self.0.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// [`connect`], counting throttled answers into `throttled`.
pub async fn connect_counting(endpoint: &Endpoint, throttled: Throttled) -> SourceResult<cwl::Client> {
    crate::http::install_crypto_provider();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let policy = RetryPolicy::default();
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(policy.max_retries + 1)
        .with_initial_backoff(policy.base_delay)
        .with_max_backoff(policy.max_delay);
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).retry_config(retry).timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(Duration::from_secs(60))
            .build(),
    );
    if let Some(region) = &endpoint.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &endpoint.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &endpoint.endpoint {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(SourceError::Query("no AWS region: give --region REGION, or set AWS_REGION or a region in the profile".into()));
    }
    let mut service = cwl::config::Builder::from(&config).interceptor(CountThrottling(throttled));
    if endpoint.endpoint.is_some() {
        service = service.interceptor(NoHostPrefix);
    }
    Ok(cwl::Client::from_conf(service.build()))
}

/// Sends `StartLiveTail` to a custom endpoint as it is: the SDK would put `streaming-` before
/// its host (AWS serves Live Tail from `streaming-logs.REGION.amazonaws.com`), a name that
/// does not exist for an emulator or a loopback address. Endpoints that have no Live Tail
/// refuse it, and the tail polls.
#[derive(Debug)]
struct NoHostPrefix;

impl cwl::config::Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "logsleuth::NoHostPrefix"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut cwl::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &cwl::config::RuntimeComponents,
        cfg: &mut cwl::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        cfg.interceptor_state().unset::<aws_smithy_runtime_api::client::endpoint::EndpointPrefix>();
        Ok(())
    }
}

/// Turns an SDK error into a [`SourceError`]: the service's code and message where there is
/// one; throttling that outlasted the retries says so.
pub fn error<E, R>(target: &str, err: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Error").to_string();
            let message = e.message().unwrap_or("").to_string();
            service_error(&code, &message)
        }
        SdkError::TimeoutError(_) => SourceError::Unreachable { target: target.into(), reason: "timed out".into() },
        SdkError::DispatchFailure(d) => {
            let reason = if d.is_timeout() {
                "timed out".to_string()
            } else if let Some(e) = d.as_connector_error() {
                e.to_string()
            } else {
                format!("{err}")
            };
            SourceError::Unreachable { target: target.into(), reason: chain(&reason, &err) }
        }
        SdkError::ConstructionFailure(_) => {
            // Mostly: no credentials anywhere in the chain.
            SourceError::Auth { status: 0, message: chain("cannot sign the request", &err) }
        }
        _ => SourceError::Decode(chain("unexpected answer", &err)),
    }
}

/// The whole cause chain of an SDK error (its `Display` says only the outermost part).
fn chain(first: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = first.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    logsleuth_core::text::sanitize(&out).into_owned()
}

/// The error for a service error code (shared with the tests).
pub fn service_error(code: &str, message: &str) -> SourceError {
    let text = if message.is_empty() { code.to_string() } else { format!("{code}: {message}") };
    match code {
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken" => SourceError::Auth { status: 403, message: text },
        "ThrottlingException" | "LimitExceededException" | "ServiceUnavailableException" => {
            SourceError::Server { status: 429, message: format!("{text} (still refused after retries)") }
        }
        "InvalidParameterException" | "MalformedQueryException" | "InvalidOperationException" => SourceError::Query(text),
        "ResourceNotFoundException" => SourceError::Server { status: 404, message: text },
        _ => SourceError::Server { status: 400, message: text },
    }
}

/// One `FilterLogEvents` request's parameters.
#[derive(Debug, Clone)]
pub struct FilterParams<'a> {
    /// The group.
    pub group: &'a str,
    /// Index of the group (copied into each event).
    pub group_index: usize,
    /// Only streams with this prefix.
    pub stream_prefix: Option<&'a str>,
    /// First millisecond (inclusive).
    pub start_ms: i64,
    /// Last millisecond (inclusive).
    pub end_ms: i64,
    /// The filter pattern; empty for every event.
    pub pattern: &'a str,
}

/// One page of `FilterLogEvents`.
pub async fn filter_page(
    client: &cwl::Client,
    p: &FilterParams<'_>,
    token: Option<String>,
    streams: &mut StreamNames,
) -> SourceResult<(Vec<Event>, Option<String>)> {
    let mut request = client.filter_log_events().log_group_name(p.group).start_time(p.start_ms).end_time(p.end_ms).set_next_token(token);
    if let Some(prefix) = p.stream_prefix {
        request = request.log_stream_name_prefix(prefix);
    }
    if !p.pattern.is_empty() {
        request = request.filter_pattern(p.pattern);
    }
    let out = request.send().await.map_err(|e| error(p.group, e))?;
    let events = out
        .events()
        .iter()
        .filter_map(|e| {
            Some(Event {
                ts_ms: e.timestamp()?,
                group: p.group_index,
                stream: streams.get(e.log_stream_name().unwrap_or("")),
                id: e.event_id().unwrap_or("").to_string(),
                message: e.message().unwrap_or("").to_string(),
            })
        })
        .collect();
    Ok((events, out.next_token().map(str::to_string)))
}

/// Stream names shared by their events (a page of 10,000 events has few streams).
#[derive(Debug, Default)]
pub struct StreamNames(Vec<Arc<str>>);

impl StreamNames {
    /// The shared name.
    pub fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(s) = self.0.iter().find(|s| &***s == name) {
            return s.clone();
        }
        let s: Arc<str> = Arc::from(name);
        if self.0.len() < 4096 {
            self.0.push(s.clone());
        }
        s
    }
}

/// A log group as `DescribeLogGroups` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Its name.
    pub name: String,
    /// Bytes stored (what Logs Insights may scan).
    pub stored_bytes: Option<i64>,
    /// Retention in days (`None`: kept forever).
    pub retention_days: Option<i32>,
}

/// The ARN of the group named exactly `name` (without the `:*` some answers append).
pub async fn list_groups_raw(client: &cwl::Client, name: &str) -> SourceResult<Option<String>> {
    let out = client.describe_log_groups().log_group_name_prefix(name).send().await.map_err(|e| error("DescribeLogGroups", e))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .and_then(|g| g.log_group_arn().or(g.arn()).map(|a| a.trim_end_matches(":*").to_string())))
}

/// The log groups whose names start with `prefix`, all pages.
pub async fn list_groups(client: &cwl::Client, prefix: Option<&str>, max: usize) -> SourceResult<Vec<GroupInfo>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let out_page = client
            .describe_log_groups()
            .set_log_group_name_prefix(prefix.map(str::to_string))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeLogGroups", e))?;
        for g in out_page.log_groups() {
            out.push(GroupInfo {
                name: g.log_group_name().unwrap_or("").to_string(),
                stored_bytes: g.stored_bytes(),
                retention_days: g.retention_in_days(),
            });
        }
        token = out_page.next_token().map(str::to_string);
        if token.is_none() || out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_told_by_status_header_or_error_type() {
        assert!(is_throttling(429, None, None));
        assert!(is_throttling(400, Some("ThrottlingException:http://internal.amazon.com/"), None));
        assert!(is_throttling(400, None, Some(br#"{"__type":"com.amazonaws.logs#LimitExceededException","message":"Rate exceeded"}"#)));
        assert!(!is_throttling(400, None, Some(br#"{"__type":"ResourceNotFoundException"}"#)));
        assert!(!is_throttling(200, None, Some(b"ThrottlingException in a message")));
    }
}
