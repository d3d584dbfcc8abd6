# The Windows installers register the login scheme, or login links never
# reach the app. Installs each installer silently on the (throwaway) runner,
# reads the registry keys that register the URL protocol, runs the
# registered command's program, then uninstalls and checks the keys are
# gone. Run by .github/workflows/release.yml before anything is uploaded:
#
#   pwsh scripts/check-windows-scheme.ps1 -Scheme dev.kakaodesk.desktop `
#     -Nsis <setup.exe> -Msi <installer.msi>
#
# What the bundler writes (tauri-bundler's NSIS and WiX templates):
#   <hive>\Software\Classes\<scheme>                    "URL Protocol" = ""
#   <hive>\Software\Classes\<scheme>\shell\open\command (default) = "<exe>" "%1"
# with <hive> HKCU for the per-user NSIS installer (installMode currentUser)
# and HKLM for the MSI.
param(
  [Parameter(Mandatory = $true)] [string] $Scheme,
  [Parameter(Mandatory = $true)] [string] $Nsis,
  [Parameter(Mandatory = $true)] [string] $Msi
)
$ErrorActionPreference = 'Stop'
$Binary = 'kakao-desk.exe'

function Assert-Registered([string] $Hive, [string] $What) {
  $key = "${Hive}:\Software\Classes\$Scheme"
  if (-not (Test-Path -LiteralPath $key)) { throw "${What}: $key is missing" }
  $values = Get-ItemProperty -LiteralPath $key
  if ($null -eq $values.PSObject.Properties['URL Protocol']) {
    throw "${What}: $key has no 'URL Protocol' value, so Windows does not treat it as a URL scheme"
  }
  $commandKey = "$key\shell\open\command"
  if (-not (Test-Path -LiteralPath $commandKey)) { throw "${What}: $commandKey is missing" }
  $command = (Get-Item -LiteralPath $commandKey).GetValue('')
  Write-Host "${What}: $commandKey = $command"
  $pattern = '^"(?<exe>[^"]+\\' + [regex]::Escape($Binary) + ')" "%1"$'
  if ($command -notmatch $pattern) {
    throw "${What}: the open command must be `"<install dir>\$Binary`" `"%1`", found: $command"
  }
  $exe = $Matches['exe']
  if (-not (Test-Path -LiteralPath $exe)) { throw "${What}: the registered program does not exist: $exe" }
  # The registered program runs: its configuration doctor, offline, must
  # find no error (the same check as scripts/check-release-config.sh, on
  # what the binary carries, not on this job's KAKAO_* variables).
  Get-ChildItem Env: | Where-Object Name -like 'KAKAO_*' | ForEach-Object { Remove-Item "Env:$($_.Name)" }
  $report = & $exe --check-config --offline --lang en 2>&1 | Out-String
  Write-Host $report
  if ($LASTEXITCODE -ne 0) { throw "${What}: $exe --check-config --offline exited with $LASTEXITCODE" }
}

function Assert-Unregistered([string] $Hive, [string] $What) {
  if (Test-Path -LiteralPath "${Hive}:\Software\Classes\$Scheme") {
    throw "${What}: the scheme is still registered after uninstalling"
  }
}

function Invoke-Checked([string] $File, [string[]] $Arguments, [string] $What) {
  $process = Start-Process -FilePath $File -ArgumentList $Arguments -Wait -PassThru
  # 3010: success, a restart is needed (never for this app, but legal).
  if ($process.ExitCode -ne 0 -and $process.ExitCode -ne 3010) {
    throw "${What} exited with $($process.ExitCode)"
  }
}

# MSI first, per machine: HKLM (the runner is an administrator). First,
# because the NSIS uninstaller leaves its install-dir key, which the MSI
# would then follow into the per-user folder instead of Program Files.
$log = Join-Path $env:RUNNER_TEMP 'msi-install.log'
try {
  Invoke-Checked 'msiexec.exe' @('/i', "`"$Msi`"", '/qn', '/norestart', '/l*v', "`"$log`"") 'msiexec /i'
} catch {
  if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 60 | Write-Host }
  throw
}
Assert-Registered 'HKLM' 'MSI'
Invoke-Checked 'msiexec.exe' @('/x', "`"$Msi`"", '/qn', '/norestart') 'msiexec /x'
Assert-Unregistered 'HKLM' 'MSI'

# NSIS, per user: HKCU. The uninstaller is found through the uninstall entry
# the installer wrote; `_?=<dir>` makes it run in place, so -Wait waits for it.
Invoke-Checked $Nsis @('/S') 'the NSIS installer'
Assert-Registered 'HKCU' 'NSIS'
$entry = Get-ChildItem 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Uninstall' |
  Get-ItemProperty | Where-Object { $_.DisplayName -eq 'Kakao Desk' } | Select-Object -First 1
if ($null -eq $entry) { throw 'NSIS: no uninstall entry named Kakao Desk' }
$uninstaller = $entry.UninstallString.Trim('"')
$installDir = Split-Path -Parent $uninstaller
Invoke-Checked $uninstaller @('/S', "_?=$installDir") 'the NSIS uninstaller'
Assert-Unregistered 'HKCU' 'NSIS'

Write-Host "ok: both installers register $Scheme and remove it on uninstall"
