# Golden values for LstmSimd.Forecasting's Theta method (ThetaModel), from R's forecast package (thetaf).
# Run from the repository root:  Rscript tests/LstmSimd.Tests/Golden/make_theta_golden.R
# Needs Debian's r-base-core and r-cran-forecast. Writes tests/LstmSimd.Tests/Golden/theta/theta-golden.json.
#
# thetaf (Hyndman and Billah, 2003): when the series has a season m > 1 and its lag-m autocorrelation passes the 90 %
# test, a classical multiplicative decomposition removes the season; simple exponential smoothing (ses, ETS(A,N,N))
# forecasts the adjusted series, plus half the slope of a least-squares line through it, scaled as in the method;
# the season is put back. Each case records the decision, alpha, the drift (half the slope) and the forecasts.
suppressMessages(library(forecast))
out <- file.path("tests", "LstmSimd.Tests", "Golden", "theta", "theta-golden.json")

num <- function(x) paste0("[", paste(sprintf("%.17g", as.numeric(x)), collapse = ", "), "]")
str <- function(x) paste0("\"", x, "\"")
obj <- function(...) {
  fields <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

theta_case <- function(name, y, m, h) {
  f <- thetaf(ts(as.numeric(y), frequency = m), h = h)
  x <- ts(as.numeric(y), frequency = m)
  seasonal <- FALSE
  n <- length(x)
  if (m > 1 && n > 2 * m) {
    r <- as.numeric(acf(x, lag.max = m, plot = FALSE)$acf)[-1]
    seasonal <- abs(r[m]) / sqrt((1 + 2 * sum(r[-m]^2)) / n) > qnorm(0.95)
  }
  obj(name = str(name), season = m, y = num(y), seasonal = if (seasonal) "true" else "false",
      alpha = sprintf("%.17g", f$model$alpha), drift = sprintf("%.17g", f$model$drift), forecasts = num(f$mean))
}

set.seed(20261206)
noise <- 50 + rnorm(60)
cases <- c(
  theta_case("Nile, annual", Nile, 1, 10),
  theta_case("WWWusage, no season", WWWusage, 1, 10),
  theta_case("USAccDeaths, monthly, seasonal", USAccDeaths, 12, 24),
  theta_case("co2 1959-1978, monthly, seasonal", as.numeric(co2)[1:240], 12, 24),
  theta_case("austres, quarterly", austres, 4, 8),
  theta_case("lynx, season 10", lynx, 10, 12),
  theta_case("white noise, quarterly, no season by the test", noise, 4, 8)
)
writeLines(c("{", paste0("\"forecast_version\": \"", packageVersion("forecast"), "\","),
             "\"cases\": [", paste(cases, collapse = ",\n  "), "]", "}"), out)
cat("wrote", out, "\n")
