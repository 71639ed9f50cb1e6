//! A calculator: plain two-way calls, a `#[oneway]` call, and errors that reach the client as
//! service-specific errors (their code and message travel in the reply).
//!
//! ```text
//! calculator-server                # registers "binder-examples.calculator"
//! calculator-client [A B]          # add, multiply, divide A and B; divide by zero; a oneway note
//! ```

use std::sync::Mutex;
use std::time::{Duration, Instant};

use binder_rt::{ExceptionCode, Status, binder_interface};

use crate::support::{Serve, arg, check, find, fmt_duration, pid, say, st};

/// The name the server registers with the service manager.
pub const SERVICE_NAME: &str = "binder-examples.calculator";

/// Service-specific error: the divisor is zero.
pub const ERROR_DIVISION_BY_ZERO: i32 = 1;
/// Service-specific error: the result does not fit in 64 bits.
pub const ERROR_OVERFLOW: i32 = 2;

/// The calculator's interface.
#[binder_interface(descriptor = "binder_examples.ICalculator")]
pub trait ICalculator {
    /// `a + b`; overflow is a service-specific error.
    fn add(&self, a: i64, b: i64) -> binder_rt::Result<i64>;
    /// `a * b`; overflow is a service-specific error.
    fn multiply(&self, a: i64, b: i64) -> binder_rt::Result<i64>;
    /// Integer division, rounded toward zero.
    fn divide(&self, a: i64, b: i64) -> binder_rt::Result<i64>;
    /// Keeps a note. Oneway: the caller does not wait for the server to run it.
    #[oneway]
    fn note(&self, text: &str) -> binder_rt::Result<()>;
    /// The notes kept so far, oldest first.
    fn notes(&self) -> binder_rt::Result<Vec<String>>;
}

/// The server's implementation. Each call is reported on stdout.
#[derive(Default, Debug)]
pub struct Calculator {
    notes: Mutex<Vec<String>>,
}

fn overflow(op: &str, a: i64, b: i64) -> Status {
    Status::new_service_specific_error(
        ERROR_OVERFLOW,
        format!("{op}({a}, {b}) does not fit in 64 bits"),
    )
}

impl Calculator {
    fn answer(
        &self,
        op: &str,
        a: i64,
        b: i64,
        r: binder_rt::Result<i64>,
    ) -> binder_rt::Result<i64> {
        let from = binder_rt::calling_pid();
        match &r {
            Ok(v) => say(format!("call: {op}({a}, {b}) from pid {from} -> {v}")),
            Err(e) => say(format!(
                "call: {op}({a}, {b}) from pid {from} -> refused: {e}"
            )),
        }
        r
    }
}

impl ICalculator for Calculator {
    fn add(&self, a: i64, b: i64) -> binder_rt::Result<i64> {
        let r = a.checked_add(b).ok_or_else(|| overflow("add", a, b));
        self.answer("add", a, b, r)
    }

    fn multiply(&self, a: i64, b: i64) -> binder_rt::Result<i64> {
        let r = a.checked_mul(b).ok_or_else(|| overflow("multiply", a, b));
        self.answer("multiply", a, b, r)
    }

    fn divide(&self, a: i64, b: i64) -> binder_rt::Result<i64> {
        let r = if b == 0 {
            Err(Status::new_service_specific_error(
                ERROR_DIVISION_BY_ZERO,
                "division by zero",
            ))
        } else {
            a.checked_div(b).ok_or_else(|| overflow("divide", a, b))
        };
        self.answer("divide", a, b, r)
    }

    fn note(&self, text: &str) -> binder_rt::Result<()> {
        // A oneway transaction does not name its sender: calling_pid() is 0 here.
        say(format!(
            "call: note({text:?}) (oneway; sender pid as the driver gives it: {})",
            binder_rt::calling_pid()
        ));
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.to_owned());
        Ok(())
    }

    fn notes(&self) -> binder_rt::Result<Vec<String>> {
        Ok(self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// The server: registers a [`Calculator`] and serves.
pub fn server(_args: &[String], serve: Serve) -> Result<(), String> {
    let service = BnCalculator::new_binder(Calculator::default());
    crate::support::register_and_serve(SERVICE_NAME, service.as_binder(), serve)
}

/// One checked call: reports `op(a, b) = value (round trip ...)` and compares with `expected`.
fn call(
    op: &str,
    a: i64,
    b: i64,
    f: impl FnOnce() -> binder_rt::Result<i64>,
    expected: i64,
) -> Result<(), String> {
    let t0 = Instant::now();
    let got = f().map_err(|e| format!("{op}({a}, {b}) failed: {e}"))?;
    say(format!(
        "{op}({a}, {b}) = {got} (round trip {})",
        fmt_duration(t0.elapsed())
    ));
    check(got == expected, || {
        format!("{op}({a}, {b}) returned {got}, expected {expected}")
    })
}

/// A call that must fail with the service-specific error `code`: reports
/// `op(a, b) failed: service-specific error code=N message="..."`.
fn call_failing(
    op: &str,
    a: i64,
    b: i64,
    f: impl FnOnce() -> binder_rt::Result<i64>,
    code: i32,
) -> Result<(), String> {
    match f() {
        Ok(v) => Err(format!(
            "{op}({a}, {b}) returned {v}; expected error {code}"
        )),
        Err(e) if e.exception_code() == ExceptionCode::ServiceSpecific => {
            say(format!(
                "{op}({a}, {b}) failed: service-specific error code={} message={:?}",
                e.service_specific_error(),
                e.message()
            ));
            check(e.service_specific_error() == code, || {
                format!(
                    "{op}({a}, {b}): error code {}, expected {code}",
                    e.service_specific_error()
                )
            })
        }
        Err(e) => Err(format!(
            "{op}({a}, {b}) failed with {e}, not a service-specific error"
        )),
    }
}

/// The client: `calculator-client [A B]` (default 40 2).
pub fn client(args: &[String]) -> Result<(), String> {
    let a: i64 = arg(args, 0, "operand A", 40)?;
    let b: i64 = arg(args, 1, "operand B", 2)?;
    let calc = find::<dyn ICalculator>(SERVICE_NAME, "calculator-server")?;

    let sum = a
        .checked_add(b)
        .ok_or("A + B overflows; pick smaller operands")?;
    let product = a
        .checked_mul(b)
        .ok_or("A * B overflows; pick smaller operands")?;
    call("add", a, b, || calc.add(a, b), sum)?;
    call("multiply", a, b, || calc.multiply(a, b), product)?;
    if b != 0 {
        let quotient = a.checked_div(b).ok_or("A / B overflows")?;
        call("divide", a, b, || calc.divide(a, b), quotient)?;
    }
    call_failing("divide", a, 0, || calc.divide(a, 0), ERROR_DIVISION_BY_ZERO)?;
    call_failing(
        "multiply",
        i64::MAX,
        2,
        || calc.multiply(i64::MAX, 2),
        ERROR_OVERFLOW,
    )?;

    // Oneway: returns as soon as the driver has the transaction; the server runs it later, so
    // the client asks for the notes until its note shows up.
    let text = format!("client pid {} was here", pid());
    let t0 = Instant::now();
    calc.note(&text).map_err(|e| format!("note failed: {e}"))?;
    let sent = t0.elapsed();
    say(format!(
        "oneway: note({text:?}) returned after {} without waiting for the server",
        fmt_duration(sent)
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let notes = calc.notes().map_err(st)?;
        if notes.contains(&text) {
            say(format!(
                "oneway: delivered; notes() lists {text:?} {} after it was sent",
                fmt_duration(t0.elapsed())
            ));
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the oneway note never arrived; notes: {notes:?}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    say("done: every result was right and the errors arrived with their codes and messages");
    Ok(())
}
