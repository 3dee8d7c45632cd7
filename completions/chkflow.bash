# bash completion for chkflow                                          -*- shell-script -*-
#
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/chkflow, where
# bash-completion loads it the first time chkflow is completed. To try it without installing:
#   source completions/chkflow.bash

_chkflow_yaml_files() {
    # Playbook and scenario files: *.yaml and *.yml, and folders to descend into.
    local IFS=$'\n' path
    compopt -o filenames 2>/dev/null
    COMPREPLY=()
    for path in $(compgen -f -- "$1"); do
        if [[ -d $path || $path == *.yaml || $path == *.yml ]]; then
            COMPREPLY+=("$path")
        fi
    done
}

_chkflow() {
    local cur prev command
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    command=${COMP_WORDS[1]}

    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W 'run validate plan simulate codes version help' -- "$cur"))
        return
    fi

    # Values of options that take one.
    case $prev in
    --format)
        COMPREPLY=($(compgen -W 'text json mermaid dot' -- "$cur"))
        return
        ;;
    --simulator | --scenario)
        _chkflow_yaml_files "$cur"
        return
        ;;
    --report | --simulator-log | --log | --cert | --key)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --state-dir)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --var | --max-parallel | --listen | --resume)
        return
        ;;
    esac

    local options
    case $command in
    run) options='--simulator --simulator-log --report --var --max-parallel --state-dir --resume -q -v' ;;
    validate) options='-q' ;;
    plan) options='--format' ;;
    simulate) options='--listen --scenario --log --tls --cert --key' ;;
    codes) options='--json' ;;
    *) return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    elif [[ $command == run || $command == validate || $command == plan ]]; then
        _chkflow_yaml_files "$cur"
    fi
}

complete -F _chkflow chkflow
