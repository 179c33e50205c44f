# Golden values for LstmSimd.Forecasting's AutoEts, from R's forecast package.
# Run from the repository root:  Rscript tests/LstmSimd.Tests/Golden/make_autoets_golden.R
# Needs Debian's r-base-core and r-cran-forecast. Writes tests/LstmSimd.Tests/Golden/ets/autoets-golden.json.
#
# Each case: forecast::ets(y, model = "AZZ") with its defaults (additive errors; trend and season chosen by AICc
# among N/A/Ad and N/A; R's default restrict = TRUE forbids the multiplicative season with additive errors), the
# chosen model, its AICc and point forecasts, and every candidate's AICc from fitting it alone.
# R's AICc omits the Gaussian likelihood's constant: aicc = n log(SSE) + 2k + 2k(k+1)/(n-k-1); the file also holds
# the constant n (log(2 pi / n) + 1) that turns it into -2 log L + 2k + 2k(k+1)/(n-k-1).
suppressMessages(library(forecast))
out <- file.path("tests", "LstmSimd.Tests", "Golden", "ets", "autoets-golden.json")

num <- function(x) paste0("[", paste(sprintf("%.17g", as.numeric(x)), collapse = ", "), "]")
str <- function(x) paste0("\"", x, "\"")
obj <- function(...) {
  fields <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

auto_case <- function(name, y, h) {
  m <- frequency(y)
  fit <- ets(y, model = "AZZ")
  seasons <- if (m > 1) c("N", "A") else "N"
  names <- character(0)
  aiccs <- numeric(0)
  for (s in seasons) for (tr in c("N", "A", "Ad")) {
    single <- ets(y, model = paste0("A", substr(tr, 1, 1), s), damped = tr == "Ad")
    names <- c(names, single$method)
    aiccs <- c(aiccs, single$aicc)
  }
  n <- length(y)
  obj(name = str(name), season = m, y = num(y), chosen = str(fit$method), aicc = sprintf("%.17g", fit$aicc),
      mse = sprintf("%.17g", fit$mse), likelihood_constant = sprintf("%.17g", n * (log(2 * pi / n) + 1)),
      candidates = paste0("[", paste(str(names), collapse = ", "), "]"), candidate_aicc = num(aiccs),
      forecasts = num(forecast(fit, h = h)$mean))
}

cases <- c(
  auto_case("usaccdeaths", USAccDeaths, 24),                 # monthly 1973-1978, 72 rows
  auto_case("co2 1959-1988", window(co2, end = c(1988, 12)), 24), # Mauna Loa CO2, 360 rows
  auto_case("austres", austres, 8),                           # quarterly Australian residents 1971-1993, 89 rows
  auto_case("wwwusage", WWWusage, 10),                        # users per minute, 100 rows
  auto_case("nile", Nile, 10)                                 # annual Nile flow 1871-1970, 100 rows
)
writeLines(paste0("{\"generator\": ", str(paste("R", getRversion(), "forecast", packageVersion("forecast"))),
                  ",\n \"cases\": [\n", paste(cases, collapse = ",\n"), "\n]}"), out)
cat("wrote", out, "\n")
