//! Connection accounting: a layer around reqwest's connector that counts the connections
//! this process opens and times each one, and tells the request that opened one how long it
//! took.
//!
//! In: every connect the HTTP client makes. Out: [`opened`] (process-wide count) and, for a
//! request sent inside [`timed`], the time its own new connection took to open (`None` when
//! it reused a pooled connection). A connect that finishes in the background (its request
//! took an idle connection meanwhile) is counted but belongs to no request.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

static OPENED: AtomicU64 = AtomicU64::new(0);

tokio::task_local! {
    static CONNECT_S: Cell<Option<f64>>;
}

/// Connections opened by this process so far.
pub fn opened() -> u64 {
    OPENED.load(Ordering::Relaxed)
}

/// Run `fut` (a request's send) and return its output with the time, in seconds, of the
/// connection it opened for itself, if it opened one.
pub async fn timed<F: Future>(fut: F) -> (F::Output, Option<f64>) {
    CONNECT_S
        .scope(Cell::new(None), async {
            let out = fut.await;
            (out, CONNECT_S.with(Cell::get))
        })
        .await
}

/// The layer to give `ClientBuilder::connector_layer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountConnects;

impl<S> tower_layer::Layer<S> for CountConnects {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted(inner)
    }
}

/// The connector, counted.
#[derive(Debug, Clone)]
pub struct Counted<S>(S);

impl<S, R> tower_service::Service<R> for Counted<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move {
            let t = Instant::now();
            let out = fut.await;
            if out.is_ok() {
                OPENED.fetch_add(1, Ordering::Relaxed);
                let s = t.elapsed().as_secs_f64();
                let _ = CONNECT_S.try_with(|c| c.set(Some(s)));
            }
            out
        })
    }
}
