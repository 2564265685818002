# Reads "env pin row tool value" lines and prints a markdown table of medians and ratios.
BEGIN { FS = "\t" }
$5 != "fail" { key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; n[key]++; v[key, n[key]] = $5 + 0 }
$5 == "fail" { failed[$1 SUBSEP $2 SUBSEP $3 SUBSEP $4] = 1 }
function median(key,    i, j, t, m, a) {
  m = n[key]
  if (m == 0) return ""
  for (i = 1; i <= m; i++) a[i] = v[key, i]
  for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function cell(x) { return x == "" ? "fail" : sprintf(x < 10 ? "%.3f" : "%.1f", x) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "–" : sprintf("%.2f×", a / b) }
END {
  split("native gvisor", envs, " "); split("pinned unpinned", pins, " ")
  nrows = split("getppid open-unfaked open-faked go-kubelet go-busy go-busy+io", rows, " ")
  unit["getppid"] = "µs/call"; unit["open-unfaked"] = "µs/op"; unit["open-faked"] = "µs/op"
  unit["go-kubelet"] = "µs/run"; unit["go-busy"] = "ms"; unit["go-busy+io"] = "ms"
  print "| where | pinning | row | unit | native | intercept | strace | proot | intercept÷native | intercept÷strace | intercept÷proot |"
  print "|---|---|---|---|---|---|---|---|---|---|---|"
  for (e = 1; e <= 2; e++) for (p = 1; p <= 2; p++) for (r = 1; r <= nrows; r++) {
    base = envs[e] SUBSEP pins[p] SUBSEP rows[r] SUBSEP
    if (!n[base "intercept"] && !failed[base "intercept"]) continue
    nat = median(base "native"); icp = median(base "intercept"); str = median(base "strace"); prt = median(base "proot")
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", envs[e], pins[p], rows[r], unit[rows[r]],
      cell(nat), cell(icp), cell(str), cell(prt), ratio(icp, nat), ratio(icp, str), ratio(icp, prt)
  }
}
