// `task --completion bash|zsh|fish`: completion scripts. They complete options from the list
// written into them, and target and parameter names (NAME=) by asking `task --complete-targets`,
// which loads the Taskfile in reach (the one `task` would use, -C DIR and --taskfile included)
// and builds nothing.
import { cacheModeChoices, graphFormats, optionNames } from './args.ts';
import { colorChoices, progressChoices } from '../report/display.ts';

const valueOptions = new Set(['-j', '--jobs', '-C', '--taskfile', '--completion', '--trace']);
/** Options whose value comes after '=' (`--graph=svg`), with the values they take. */
const inlineValues: Record<string, readonly string[]> = { '--graph': graphFormats, ...choiceValues() };

/** Options whose value is one of a few words, after '=' or as the next word (`--color never`). */
function choiceValues(): Record<string, readonly string[]> {
  return { '--progress': progressChoices, '--color': colorChoices, '--cache-mode': cacheModeChoices };
}

function bash(): string {
  return `# bash completion for task: source <(task --completion bash)
_task_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    -C) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --taskfile|--trace) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
${Object.entries(choiceValues()).map(([option, values]) => `    ${option}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`).join('\n')}
    -j|--jobs) COMPREPLY=(); return ;;
  esac
  # --graph=FORMAT: bash splits the word at '=' (COMP_WORDBREAKS).
  local option=
  if [[ $cur == = ]]; then option=$prev cur=; elif [[ $prev == = ]]; then option=\${COMP_WORDS[COMP_CWORD-2]}; fi
  case $option in
${Object.entries(inlineValues).map(([option, values]) => `    ${option}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`).join('\n')}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${optionNames.join(' ')}" -- "$cur"))
    return
  fi
  local where=() i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -C|--taskfile) where+=("\${COMP_WORDS[i]}" "\${COMP_WORDS[i+1]}") ;; esac
  done
  # Task names hold ':' (cProgram's app:src:main.o), where bash splits words (COMP_WORDBREAKS):
  # the name is joined back, and each answer cut to what follows its last ':', the part replaced.
  local word=$cur j=$COMP_CWORD
  while ((j > 1)) && [[ \${COMP_WORDS[j-1]} == : || \${COMP_WORDS[j]} == : ]]; do word=\${COMP_WORDS[j-1]}$word; ((j--)); done
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" "\${where[@]}" --complete-targets 2>/dev/null)" -- "$word"))
  if [[ $word == *:* && $COMP_WORDBREAKS == *:* ]]; then COMPREPLY=("\${COMPREPLY[@]#"\${word%"\${word##*:}"}"}"); fi
  # NAME= waits for its value.
  if [[ \${#COMPREPLY[@]} == 1 && \${COMPREPLY[0]} == *= ]]; then compopt -o nospace 2>/dev/null; fi
}
complete -F _task_complete task
`;
}

function zsh(): string {
  return `#compdef task
# zsh completion for task: source <(task --completion zsh), or save it as _task in $fpath
_task() {
  local -a names where
  local i
  for (( i = 2; i < CURRENT; i++ )); do
    case \${words[i]} in -C|--taskfile) where+=(\${words[i]} \${words[i+1]}) ;; esac
  done
  case \${words[CURRENT-1]} in
    -C) _files -/; return ;;
    --taskfile|--trace) _files; return ;;
    --completion) compadd bash zsh fish; return ;;
    -j|--jobs) return ;;
  esac
  case \${words[CURRENT]} in
${Object.entries(inlineValues).map(([option, values]) => `    ${option}=*) compadd -- ${values.map((v) => `${option}=${v}`).join(' ')}; return ;;`).join('\n')}
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    compadd -- ${optionNames.join(' ')}
    return
  fi
  names=(\${(f)"$(\${words[1]} \${where[@]} --complete-targets 2>/dev/null)"})
  compadd -S '' -- \${(M)names:#*=}
  compadd -- \${names:#*=}
}
compdef _task task
`;
}

function fish(): string {
  const lines = optionNames.map((option) => {
    const flag = option.startsWith('--') ? `-l ${option.slice(2)}` : `-s ${option.slice(1)}`;
    if (option === '-C') return `complete -c task ${flag} -x -a '(__fish_complete_directories)'`;
    if (option === '--taskfile' || option === '--trace') return `complete -c task ${flag} -r -F`;
    if (option === '--completion') return `complete -c task ${flag} -x -a 'bash zsh fish'`;
    if (option in inlineValues) return `complete -c task ${flag} -a '${inlineValues[option]!.join(' ')}'`;
    return `complete -c task ${flag}${valueOptions.has(option) ? ' -x' : ''}`;
  });
  return `# fish completion for task: task --completion fish | source
function __task_names
    set -l tokens (commandline -opc)
    set -l where
    for i in (seq 2 (count $tokens))
        if contains -- $tokens[$i] -C --taskfile; and test $i -lt (count $tokens)
            set -a where $tokens[$i] $tokens[(math $i + 1)]
        end
    end
    $tokens[1] $where --complete-targets 2>/dev/null
end
complete -c task -f -a '(__task_names)'
${lines.join('\n')}
`;
}

export function completionScript(shell: string): string {
  return shell === 'bash' ? bash() : shell === 'zsh' ? zsh() : fish();
}
