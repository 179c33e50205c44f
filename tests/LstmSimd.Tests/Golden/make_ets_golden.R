# Golden values for LstmSimd.Forecasting's exponential smoothing (EtsModel), from R's forecast package.
# Run from the repository root:  Rscript tests/LstmSimd.Tests/Golden/make_ets_golden.R
# Needs Debian's r-base-core and r-cran-forecast. Writes tests/LstmSimd.Tests/Golden/ets/ets-golden.json.
#
# Two kinds of case:
# - "filter": given parameters and initial state, the one-step errors and final state from forecast's C filter
#   (forecast:::pegelsresid.C, the etscalc routine ets() fits with) and the forecasts from forecast:::class1 (the
#   matrix form of the state space model that forecast.ets uses for its point forecasts and variances).
# - "fit": forecast::ets(y, model, damped) with its defaults (maximum likelihood, bounds "both"): the parameters,
#   the mean squared one-step error (fit$mse), AICc and the point forecasts.
suppressMessages(library(forecast))
out <- file.path("tests", "LstmSimd.Tests", "Golden", "ets", "ets-golden.json")

num <- function(x) paste0("[", paste(sprintf("%.17g", as.numeric(x)), collapse = ", "), "]")
str <- function(x) paste0("\"", x, "\"")
obj <- function(...) {
  fields <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}
trend_code <- function(trend, damped) if (trend == "N") "N" else if (damped) "Ad" else "A"

filter_case <- function(name, y, m, trend, damped, alpha, beta, gamma, phi, level, slope, season, h) {
  seasontype <- if (m > 1) "A" else "N"
  # R's state is (level, trend, s_t, s_{t-1}, ..., s_{t-m+1}): newest season first. Ours is oldest first.
  init <- c(level, if (trend != "N") slope, if (m > 1) rev(season))
  r <- forecast:::pegelsresid.C(y, m, init, "A", trend, seasontype, damped, alpha, beta, gamma, phi, 3)
  last <- r$states[nrow(r$states), ]
  par <- c(alpha = alpha, beta = beta, gamma = gamma, phi = phi)
  f <- forecast:::class1(h, last, trend, seasontype, damped, m, 1, par)
  obj(kind = str("filter"), name = str(name), model = str(paste0("A,", trend_code(trend, damped), ",", seasontype)),
      season = m, y = num(y), alpha = alpha, beta = beta, gamma = gamma, phi = phi,
      level = level, trend = slope, initial_season = num(season),
      errors = num(r$e), final_level = last[1], forecasts = num(f$mu))
}

fit_case <- function(name, y, m, trend, damped, h) {
  seasontype <- if (m > 1) "A" else "N"
  fit <- ets(ts(as.numeric(y), frequency = m), model = paste0("A", trend, seasontype), damped = damped)
  par <- fit$par
  get <- function(k) if (k %in% names(par)) par[[k]] else 0
  obj(kind = str("fit"), name = str(name), model = str(paste0("A,", trend_code(trend, damped), ",", seasontype)),
      season = m, y = num(y), alpha = get("alpha"), beta = get("beta"), gamma = get("gamma"),
      phi = if (damped) get("phi") else 1, mse = fit$mse, aicc = fit$aicc, forecasts = num(forecast(fit, h = h)$mean))
}

usa <- as.numeric(USAccDeaths)          # monthly US accidental deaths 1973-1978, 72 rows
co2_train <- as.numeric(co2)[1:360]     # Mauna Loa CO2 1959-1988 (R's datasets::co2), 30 years
nile <- as.numeric(Nile)                # annual Nile flow 1871-1970, 100 rows
huron <- as.numeric(LakeHuron)          # annual Lake Huron level 1875-1972, 98 rows
season12 <- c(-800, -1600, -700, -400, 400, 900, 1800, 1200, 100, 200, -500, -600)
season12 <- season12 - mean(season12)

cases <- c(
  filter_case("usaccdeaths AAA", usa, 12, "A", FALSE, 0.35, 0.02, 0.1, 1, 9000, 10, season12, 24),
  filter_case("usaccdeaths AAdA", usa, 12, "A", TRUE, 0.5, 0.1, 0.2, 0.9, 9500, -20, season12, 30),
  filter_case("nile AAN", nile, 1, "A", FALSE, 0.3, 0.05, 0, 1, 1100, -5, numeric(0), 10),
  filter_case("nile AAdN", nile, 1, "A", TRUE, 0.2, 0.1, 0, 0.85, 1000, 3, numeric(0), 10),
  filter_case("nile ANN", nile, 1, "N", FALSE, 0.25, 0, 0, 1, 1050, 0, numeric(0), 5),
  fit_case("usaccdeaths AAA", usa, 12, "A", FALSE, 24),
  fit_case("usaccdeaths AAdA", usa, 12, "A", TRUE, 24),
  fit_case("co2 AAA", co2_train, 12, "A", FALSE, 24),
  fit_case("co2 AAdA", co2_train, 12, "A", TRUE, 24),
  fit_case("nile AAN", nile, 1, "A", FALSE, 10),
  fit_case("nile AAdN", nile, 1, "A", TRUE, 10),
  fit_case("lakehuron AAdN", huron, 1, "A", TRUE, 10)
)
writeLines(paste0("{\"generator\": ", str(paste("R", getRversion(), "forecast", packageVersion("forecast"))),
                  ",\n \"cases\": [\n", paste(cases, collapse = ",\n"), "\n]}"), out)
cat("wrote", out, "\n")
