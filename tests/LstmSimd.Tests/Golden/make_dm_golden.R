# Golden values for LstmSimd.Forecasting's Diebold–Mariano test, from R's forecast package (dm.test).
# Run from the repository root:  Rscript tests/LstmSimd.Tests/Golden/make_dm_golden.R
# Needs Debian's r-base-core and r-cran-forecast. Writes tests/LstmSimd.Tests/Golden/dm/dm-golden.json.
#
# Each case holds two error series, the horizon, the loss power and the variance estimator, and dm.test's statistic
# (with the Harvey-Leybourne-Newbold correction) and its one-sided p-values. With varestimator "acf" a variance that
# is not positive makes dm.test warn and test again with h = 1; "fallback" records when that happened.
suppressMessages(library(forecast))
out <- file.path("tests", "LstmSimd.Tests", "Golden", "dm", "dm-golden.json")

num <- function(x) paste0("[", paste(sprintf("%.17g", as.numeric(x)), collapse = ", "), "]")
str <- function(x) paste0("\"", x, "\"")
obj <- function(...) {
  fields <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

dm_case <- function(name, e1, e2, h, power, varestimator) {
  fallback <- FALSE
  run <- function(alternative) withCallingHandlers(
    dm.test(e1, e2, alternative = alternative, h = h, power = power, varestimator = varestimator),
    warning = function(w) { fallback <<- TRUE; invokeRestart("muffleWarning") })
  less <- run("less")
  greater <- run("greater")
  obj(name = str(name), e1 = num(e1), e2 = num(e2), h = h, power = power, varestimator = str(varestimator),
      fallback = if (fallback) "true" else "false", statistic = sprintf("%.17g", less$statistic),
      p_less = sprintf("%.17g", less$p.value), p_greater = sprintf("%.17g", greater$p.value))
}

set.seed(20261206)
n <- 60
# Overlapping h-step errors: moving sums of white noise, as forecasts from neighbouring origins share shocks.
ma <- function(z, h) as.numeric(stats::filter(z, rep(1, h), sides = 1))[h:length(z)]
a1 <- rnorm(n); a2 <- 1.2 * rnorm(n)
b1 <- ma(rnorm(n + 5), 6); b2 <- ma(rnorm(n + 5), 6) * 1.1 + 0.3
c1 <- ma(rnorm(112), 12); c2 <- ma(rnorm(112), 12)
d1 <- rt(25, df = 4); d2 <- rt(25, df = 4) * 0.7
# Losses that alternate between origins: the rectangular ("acf") variance at h 2 is negative, and dm.test falls back to h 1.
f1 <- 1 + 0.9 * (-1)^(1:40) + 0.05 * rnorm(40); f2 <- rep(0.95, 40)

cases <- c(
  dm_case("white noise, h 1, absolute", a1, a2, 1, 1, "acf"),
  dm_case("white noise, h 1, squared", a1, a2, 1, 2, "acf"),
  dm_case("moving sums of 6, h 6, absolute, acf", b1, b2, 6, 1, "acf"),
  dm_case("moving sums of 6, h 6, absolute, bartlett", b1, b2, 6, 1, "bartlett"),
  dm_case("moving sums of 6, h 6, squared, bartlett", b1, b2, 6, 2, "bartlett"),
  dm_case("moving sums of 12, h 12, absolute, acf", c1, c2, 12, 1, "acf"),
  dm_case("moving sums of 12, h 12, absolute, bartlett", c1, c2, 12, 1, "bartlett"),
  dm_case("heavy tails, 25 origins, h 3, absolute, bartlett", d1, d2, 3, 1, "bartlett"),
  dm_case("heavy tails, 25 origins, h 3, absolute, acf", d1, d2, 3, 1, "acf"),
  dm_case("alternating losses, h 2, acf (falls back to h 1)", f1, f2, 2, 1, "acf"),
  dm_case("alternating losses, h 2, bartlett", f1, f2, 2, 1, "bartlett")
)

writeLines(c("{", paste0("\"forecast_version\": \"", packageVersion("forecast"), "\","),
             "\"dm\": [", paste(cases, collapse = ",\n  "), "]", "}"), out)
cat("wrote", out, "\n")
