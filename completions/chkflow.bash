# bash completion for chkflow                                          -*- shell-script -*-
#
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/chkflow, where
# bash-completion loads it the first time chkflow is completed. To try it without installing:
#   source completions/chkflow.bash

_chkflow_files_ending() {
    # Files whose names end in one of the suffixes after $1, and folders to descend into.
    local IFS=$'\n' path suffix
    compopt -o filenames 2>/dev/null
    COMPREPLY=()
    for path in $(compgen -f -- "$1"); do
        if [[ -d $path ]]; then
            COMPREPLY+=("$path")
            continue
        fi
        for suffix in "${@:2}"; do
            if [[ $path == *"$suffix" ]]; then
                COMPREPLY+=("$path")
                break
            fi
        done
    done
}

_chkflow_yaml_files() {
    # Playbook and scenario files.
    _chkflow_files_ending "$1" .yaml .yml
}

_chkflow() {
    local cur prev command
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    command=${COMP_WORDS[1]}

    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W 'run validate plan simulate codes report version help' -- "$cur"))
        return
    fi

    # Values of options that take one.
    case $prev in
    --format)
        if [[ $command == report ]]; then
            COMPREPLY=($(compgen -W 'html' -- "$cur"))
        else
            COMPREPLY=($(compgen -W 'text json mermaid dot' -- "$cur"))
        fi
        return
        ;;
    --simulator | --scenario)
        _chkflow_yaml_files "$cur"
        return
        ;;
    --report | --simulator-log | --log | --cert | --key | --junit | --events | --output)
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
    run)
        options='--simulator --simulator-log --report --junit --events --var --max-parallel'
        options+=' --state-dir --resume -q -v'
        ;;
    validate) options='-q' ;;
    plan) options='--format' ;;
    simulate) options='--listen --scenario --log --tls --cert --key' ;;
    codes) options='--json' ;;
    report) options='--format --output' ;;
    *) return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    elif [[ $command == run || $command == validate || $command == plan ]]; then
        _chkflow_yaml_files "$cur"
    elif [[ $command == report ]]; then
        _chkflow_files_ending "$cur" .json
    fi
}

complete -F _chkflow chkflow
